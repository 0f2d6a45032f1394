//! `mountWidget`: the terminal's screens, in Chinese or English, for a counter (full soft
//! POS) or a storefront checkout.
//!
//! The widget renders HTML from its state into the element it is given and listens on that
//! element only (event delegation through `data-action`), so it needs no framework and
//! leaves the page alone. Every rule is the core's: the widget asks, shows the answer, and
//! shows each refusal's reason in the operator's language.

use super::{now, start, Inner};
use crate::error::{Error, ErrorCode};
use crate::protocol::{
    BatchTotals, DiscrepancyKind, EntryKind, EntryStatus, Outcome, TxKind, TxStatus,
};
use crate::terminal::card::{Expiry, Pan, Scheme};
use crate::terminal::money::Currency;
use crate::terminal::time::{Timestamp, UtcOffset};
use crate::terminal::{
    Command, Completion, Recovery, RecoveryKind, SettlementResult, State, TxResult,
};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{Element, Event, HtmlElement, HtmlInputElement, KeyboardEvent};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Locale {
    Zh,
    En,
}

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
    Totals,
}

/// A message for the operator: a refusal, or news.
struct Notice {
    error: bool,
    text: String,
}

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
    /// What the terminal is doing, for the in-progress screen.
    doing: Option<&'static str>,
    handlers: Vec<(&'static str, Handler)>,
    unsubscribe: Option<js_sys::Function>,
}

type Handler = Closure<dyn FnMut(Event)>;

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
        if let Some(f) = ui.unsubscribe.take() {
            let _ = f.call0(&JsValue::NULL);
        }
        ui.root.set_inner_html("");
    }
}

/// Mounts the terminal's screens into `el`. `opts`: `{locale?: "zh-CN" | "en", mode?:
/// "counter" | "checkout", amount?: number, reference?: string}`; checkout mode takes the
/// amount (minor units) and reference from the cart and dispatches a `softpos-result`
/// event (detail: the `TxResult`) on `el` when the payment is answered.
#[wasm_bindgen(js_name = mountWidget)]
pub fn mount_widget(
    el: HtmlElement,
    terminal: &super::Terminal,
    #[wasm_bindgen(
        unchecked_param_type = "{ locale?: \"zh-CN\" | \"en\"; mode?: \"counter\" | \"checkout\"; amount?: number; reference?: string }"
    )]
    opts: JsValue,
) -> Result<WidgetHandle, JsValue> {
    let field = |k: &str| super::field(&opts, k);
    let locale = locale_of(&opts);
    let mode = match field("mode").as_string().as_deref() {
        Some("checkout") => {
            let amount = super::amount_field(&opts, "amount")
                .and_then(crate::terminal::money::Amount::new)
                .map_err(|e| super::js_error(&e))?;
            Mode::Checkout {
                amount: amount.get(),
                reference: field("reference").as_string().unwrap_or_default(),
            }
        }
        _ => Mode::Counter,
    };
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
        doing: None,
        handlers: Vec::new(),
        unsubscribe: None,
    }));
    let weak = Rc::downgrade(&ui);
    let mut handlers = Vec::new();
    for kind in ["click", "submit", "input", "keydown"] {
        let weak = weak.clone();
        let handler = Closure::<dyn FnMut(Event)>::new(move |e: Event| on_event(&weak, e));
        el.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref())?;
        handlers.push((kind, handler));
    }
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
        u.unsubscribe = unsubscribe.dyn_into().ok();
    }
    render(&ui);
    Ok(WidgetHandle { ui: Some(ui) })
}

fn locale_of(opts: &JsValue) -> Locale {
    match super::field(opts, "locale").as_string().as_deref() {
        Some("en") => Locale::En,
        _ => Locale::Zh,
    }
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
    let message = super::field(&error, "message")
        .as_string()
        .unwrap_or_default();
    let code = super::field(&error, "code").as_string();
    let text = match code.as_deref().and_then(ErrorCode::parse) {
        // At open, BUSY can only come from the Web Lock; the table's BUSY text speaks of an
        // operation in progress, which would send the operator waiting for nothing.
        Some(ErrorCode::Busy) => tr(locale, T::open_elsewhere).to_owned(),
        Some(code) => error_text(locale, &Error { code, message }),
        None => message,
    };
    let lang = match locale {
        Locale::Zh => "zh-CN",
        Locale::En => "en",
    };
    el.set_inner_html(&format!(
        r#"<div class="sp" lang="{lang}"><p class="sp-error" role="alert" data-testid="open-error">{}</p></div>"#,
        esc(&text)
    ));
}

// ----- text -------------------------------------------------------------------------------

macro_rules! texts {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        #[derive(Clone, Copy)]
        #[allow(non_camel_case_types)]
        enum T { $($key),* }
        fn tr(locale: Locale, key: T) -> &'static str {
            match (locale, key) {
                $((Locale::Zh, T::$key) => $zh, (Locale::En, T::$key) => $en,)*
            }
        }
    };
}

texts! {
    unactivated => "未激活", "Not activated";
    signed_off => "未签到", "Signed off";
    signed_in => "已签到", "Signed in";
    busy => "处理中", "Working";
    activate_title => "激活终端", "Activate this terminal";
    activation_code => "激活码", "Activation code";
    activate => "激活", "Activate";
    sign_in_title => "操作员签到", "Operator sign-in";
    operator => "操作员", "Operator";
    password => "密码", "Password";
    sign_in => "签到", "Sign in";
    sale => "消费", "Sale";
    journal => "流水", "Journal";
    refund => "退货", "Refund";
    totals => "汇总", "Totals";
    settle => "结算", "Settle";
    sign_off => "签退", "Sign off";
    amount => "金额", "Amount";
    card_number => "卡号", "Card number";
    expiry => "有效期", "Expiry";
    charge => "收款", "Charge";
    pay => "支付", "Pay";
    card_ok => "卡号有效", "Card number valid";
    card_bad => "卡号无效", "Card number not valid";
    expiry_ok => "有效期有效", "Expiry valid";
    expiry_bad => "有效期无效（MM/YY）", "Expiry not valid (MM/YY)";
    approved => "交易成功", "Approved";
    declined => "交易拒绝", "Declined";
    trace => "流水号", "Trace";
    batch => "批次", "Batch";
    rrn => "参考号", "RRN";
    auth_code => "授权码", "Auth code";
    card => "卡号", "Card";
    kind => "类型", "Type";
    status => "状态", "Status";
    void => "撤销", "Void";
    reversal => "冲正", "Reversal";
    supervisor_password => "主管密码", "Supervisor password";
    confirm => "确认", "Confirm";
    cancel => "取消", "Cancel";
    count => "笔数", "Count";
    net => "净额", "Net";
    print => "打印", "Print";
    empty_journal => "本批次暂无交易", "No transactions in this batch yet";
    x_report => "本批次汇总", "Batch totals (X report)";
    slip => "结算单", "Settlement slip";
    balanced => "对账平", "Balanced";
    unbalanced => "对账不平", "Unbalanced";
    terminal_side => "终端", "Terminal";
    host_side => "主机", "Host";
    discrepancies => "差错明细", "Discrepancies";
    missing_on_terminal => "终端无此笔", "Missing on the terminal";
    missing_on_host => "主机无此笔", "Missing on the host";
    amount_mismatch => "金额不符", "Amount differs";
    status_mismatch => "状态不符", "Status differs";
    next_batch => "新批次", "Next batch";
    original_rrn => "原交易参考号", "Original RRN";
    pending_reversals => "待冲正", "Reversals pending";
    processing => "处理中，请稍候…", "Processing, please wait…";
    recovery_not_signed_off => "上次营业未签退", "The last session was never signed off";
    recovery_not_settled => "有未结算的批次", "A batch was left unsettled";
    step_sign_in => "签到", "Sign in";
    step_review => "核对汇总", "Review the totals";
    step_settle => "结算", "Settle";
    step_sign_off => "签退", "Sign off";
    checkout_total => "应付金额", "Amount due";
    order => "订单号", "Order";
    checkout_not_ready => "收银台暂未就绪：商户尚未签到", "Checkout is not ready: the merchant has not signed in";
    paid => "支付成功", "Payment approved";
    not_paid => "支付未成功", "Payment declined";
    try_again => "换卡重试", "Try another card";
    signed_off_done => "已签退", "Signed off";
    activated_done => "终端已激活，请签到", "Terminal activated; please sign in";
    voided => "已撤销", "Voided";
    reversed => "已冲正", "Reversed";
    not_reversed => "未冲正，原交易有效", "Not reversed; the transaction stands";
    unknown => "结果未知", "Unknown";
    open_elsewhere => "此终端已在另一个标签页或窗口中打开，请先在那里关闭，再刷新本页", "This terminal is open in another tab or window; close it there, then reload this page";
}

fn error_text(locale: Locale, e: &Error) -> String {
    match locale {
        Locale::Zh => e.code.message_zh().to_owned(),
        // The host's English may carry a detail (seconds of a lock, what is left to refund).
        Locale::En if e.message.is_empty() => e.code.message_en().to_owned(),
        Locale::En => e.message.clone(),
    }
}

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

// ----- rendering ------------------------------------------------------------------------------

struct View<'a> {
    ui: &'a Ui,
    state: State,
    currency: Currency,
    operator: Option<String>,
    batch_no: Option<u32>,
    pending_reversals: usize,
    recovery: Option<Recovery>,
    totals: BatchTotals,
    /// The host's clock, for every date and time shown.
    utc_offset: UtcOffset,
}

impl View<'_> {
    fn t(&self, key: T) -> &'static str {
        tr(self.ui.locale, key)
    }

    fn money(&self, minor: i64) -> String {
        esc(&self.currency.format(minor))
    }

    /// An instant the terminal recorded (RFC 3339, UTC) as the merchant's wall clock reads it,
    /// `2026-12-04 16:49:00` (R21).
    fn local_time(&self, at: &str) -> String {
        Timestamp::parse_utc(at)
            .map_or_else(|| at.to_owned(), |t| t.local(self.utc_offset).date_time())
    }
}

fn render(ui: &Rc<RefCell<Ui>>) {
    let Ok(ui) = ui.try_borrow() else {
        // A handler is mid-update and renders when it is done.
        return;
    };
    let html = {
        let Ok(term) = ui.term.try_borrow() else {
            return;
        };
        let core = &term.core;
        let view = View {
            ui: &ui,
            state: core.state(),
            currency: core.currency().unwrap_or(Currency::Cny),
            operator: core.operator().map(str::to_owned),
            batch_no: core.batch_no(),
            pending_reversals: core.pending_reversals(),
            recovery: core.recovery().cloned(),
            totals: core.totals(),
            utc_offset: core.utc_offset(),
        };
        let journal = match (view.state, ui.tab, &ui.mode) {
            (State::SignedIn, Tab::Journal, Mode::Counter) => Some(journal_html(&view, core)),
            _ => None,
        };
        page(&view, journal)
    };
    ui.root.set_inner_html(&html);
}

fn page(v: &View, journal: Option<String>) -> String {
    let lang = match v.ui.locale {
        Locale::Zh => "zh-CN",
        Locale::En => "en",
    };
    let mut h = String::new();
    let mode = match v.ui.mode {
        Mode::Counter => "counter",
        Mode::Checkout { .. } => "checkout",
    };
    let _ = write!(h, r#"<div class="sp sp-{mode}" lang="{lang}">"#);
    if v.ui.mode == Mode::Counter {
        header(v, &mut h);
        recovery(v, &mut h);
    }
    notices(v, &mut h);
    match &v.ui.mode {
        Mode::Counter => counter(v, journal, &mut h),
        Mode::Checkout { amount, reference } => checkout(v, *amount, reference, &mut h),
    }
    h.push_str("</div>");
    h
}

fn header(v: &View, h: &mut String) {
    let (state_class, label) = match v.state {
        State::Unactivated => ("unactivated", v.t(T::unactivated)),
        State::SignedOff => ("signed-off", v.t(T::signed_off)),
        State::SignedIn => ("signed-in", v.t(T::signed_in)),
        State::Busy => ("busy", v.t(T::busy)),
    };
    let _ = write!(
        h,
        r#"<header class="sp-head"><strong class="sp-brand">softpos</strong><span class="sp-badge sp-{state_class}" data-testid="state">{label}</span>"#
    );
    if let Some(op) = &v.operator {
        let _ = write!(h, r#"<span>{} {}</span>"#, v.t(T::operator), esc(op));
    }
    if let Some(b) = v.batch_no {
        let _ = write!(h, r#"<span>{} {b:06}</span>"#, v.t(T::batch));
    }
    if v.pending_reversals > 0 {
        let _ = write!(
            h,
            r#"<span class="sp-warn" data-testid="pending-reversals">{} {}</span>"#,
            v.t(T::pending_reversals),
            v.pending_reversals
        );
    }
    h.push_str("</header>");
}

fn recovery(v: &View, h: &mut String) {
    let Some(r) = &v.recovery else {
        return;
    };
    let title = match r.kind {
        RecoveryKind::NotSignedOff => v.t(T::recovery_not_signed_off),
        RecoveryKind::NotSettled => v.t(T::recovery_not_settled),
    };
    let _ = write!(
        h,
        r#"<section class="sp-recovery" role="region" aria-label="{title}" data-testid="recovery"><h2>{title}</h2><p>{} {:06} · {} · {} {} · {} {}</p><ol class="sp-steps">"#,
        v.t(T::batch),
        r.batch_no,
        esc(r.business_date.as_deref().unwrap_or("")),
        v.t(T::count),
        r.totals.sale.count + r.totals.void.count + r.totals.refund.count,
        v.t(T::net),
        v.money(r.totals.net_amount)
    );
    // Where the operator is in sign in → review → settle → sign off: once the batch left
    // open has been settled (the terminal moved to a new batch), only the sign-off is left.
    let settled = v.batch_no.is_some_and(|b| b != r.batch_no);
    let current = match v.state {
        State::SignedIn if settled => 3,
        State::SignedIn => 1,
        _ => 0,
    };
    for (i, step) in [
        T::step_sign_in,
        T::step_review,
        T::step_settle,
        T::step_sign_off,
    ]
    .into_iter()
    .enumerate()
    {
        let here = if i == current || (current == 1 && i == 2) {
            r#" aria-current="step""#
        } else {
            ""
        };
        let _ = write!(h, "<li{here}>{}</li>", v.t(step));
    }
    h.push_str("</ol>");
    if v.state == State::SignedIn && !settled {
        totals_table(v, &r.totals, h);
        let _ = write!(
            h,
            r#"<p><button type="button" data-action="settle" class="sp-primary">{}</button> <button type="button" data-action="sign-off">{}</button></p>"#,
            v.t(T::settle),
            v.t(T::sign_off)
        );
    }
    h.push_str("</section>");
}

fn notices(v: &View, h: &mut String) {
    // Two live regions: news is polite, a refusal is an alert. Both stay in the page so
    // screen readers hear each change.
    let (info, alert) = match &v.ui.notice {
        Some(n) if n.error => ("", esc(&n.text)),
        Some(n) => (n.text.as_str(), String::new()),
        None => ("", String::new()),
    };
    let _ = write!(
        h,
        r#"<p class="sp-live" role="status" aria-live="polite" data-testid="status">{}</p><p class="sp-error" role="alert" data-testid="error">{alert}</p>"#,
        esc(info)
    );
}

fn counter(v: &View, journal: Option<String>, h: &mut String) {
    match v.state {
        State::Unactivated => {
            let _ = write!(
                h,
                r#"<form class="sp-panel" data-action="activate"><h2>{}</h2><label>{} <input name="code" autocomplete="off" required data-testid="activation-code"></label><button class="sp-primary" data-testid="activate">{}</button></form>"#,
                v.t(T::activate_title),
                v.t(T::activation_code),
                v.t(T::activate)
            );
        }
        State::SignedOff => sign_in_form(v, h),
        State::Busy => {
            let _ = write!(
                h,
                r#"<div class="sp-panel sp-busy" aria-busy="true" data-testid="busy"><span class="sp-spinner" aria-hidden="true"></span> {} {}</div>"#,
                v.ui.doing.map(esc).unwrap_or_default(),
                v.t(T::processing)
            );
        }
        State::SignedIn => {
            h.push_str(r#"<nav class="sp-tabs" role="tablist">"#);
            for (tab, key, name) in [
                (Tab::Sale, T::sale, "sale"),
                (Tab::Journal, T::journal, "journal"),
                (Tab::Refund, T::refund, "refund"),
                (Tab::Totals, T::totals, "totals"),
            ] {
                let selected = v.ui.tab == tab;
                let _ = write!(
                    h,
                    r#"<button type="button" role="tab" aria-selected="{selected}" data-action="tab" data-arg="{name}" data-testid="tab-{name}">{}</button>"#,
                    v.t(key)
                );
            }
            h.push_str("</nav>");
            answers(v, h);
            match v.ui.tab {
                Tab::Sale => sale_form(v, h),
                Tab::Journal => h.push_str(&journal.unwrap_or_default()),
                Tab::Refund => refund_form(v, h),
                Tab::Totals => {
                    let _ = write!(
                        h,
                        r#"<section class="sp-panel sp-print" data-testid="totals"><h2>{}</h2>"#,
                        v.t(T::x_report)
                    );
                    totals_table(v, &v.totals, h);
                    let _ = write!(
                        h,
                        r#"<button type="button" data-action="print">{}</button></section>"#,
                        v.t(T::print)
                    );
                }
            }
            let _ = write!(
                h,
                r#"<footer class="sp-actions"><button type="button" data-action="settle" data-testid="settle">{}</button><button type="button" data-action="sign-off" data-testid="sign-off">{}</button></footer>"#,
                v.t(T::settle),
                v.t(T::sign_off)
            );
        }
    }
    if v.state != State::SignedIn {
        answers(v, h);
    }
}

/// The last answer: a transaction's receipt or a settlement slip.
fn answers(v: &View, h: &mut String) {
    if let Some(r) = &v.ui.result {
        result_panel(v, r, h);
    }
    if let Some(s) = &v.ui.slip {
        slip(v, s, h);
    }
}

fn sign_in_form(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<form class="sp-panel" data-action="sign-in"><h2>{}</h2><label>{} <input name="operator" inputmode="numeric" maxlength="2" pattern="[0-9]{{2}}" required autocomplete="username" data-testid="operator"></label><label>{} <input name="password" type="password" required autocomplete="current-password" data-testid="password"></label><button class="sp-primary" data-testid="sign-in">{}</button></form>"#,
        v.t(T::sign_in_title),
        v.t(T::operator),
        v.t(T::password),
        v.t(T::sign_in)
    );
}

fn card_fields(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<label>{} <input name="pan" inputmode="numeric" autocomplete="cc-number" required aria-describedby="sp-pan-hint" data-testid="pan"></label><span class="sp-hint" id="sp-pan-hint" data-hint="pan"></span><label>{} <input name="expiry" placeholder="MM/YY" inputmode="numeric" maxlength="5" autocomplete="cc-exp" required aria-describedby="sp-exp-hint" data-testid="expiry"></label><span class="sp-hint" id="sp-exp-hint" data-hint="expiry"></span>"#,
        v.t(T::card_number),
        v.t(T::expiry)
    );
}

fn keypad_amount(ui: &Ui) -> i64 {
    ui.digits.parse().unwrap_or(0)
}

fn sale_form(v: &View, h: &mut String) {
    let amount = keypad_amount(v.ui);
    let _ = write!(
        h,
        r#"<form class="sp-panel sp-sale" data-action="sale"><label class="sp-amount-label">{} <output class="sp-amount" tabindex="0" role="textbox" aria-live="polite" data-testid="amount">{}</output></label><div class="sp-keypad">"#,
        v.t(T::amount),
        v.money(amount)
    );
    for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "00", "0", "⌫"] {
        let label = if key == "⌫" {
            r#" aria-label="backspace""#
        } else {
            ""
        };
        let _ = write!(
            h,
            r#"<button type="button" data-action="key" data-arg="{key}"{label}>{key}</button>"#
        );
    }
    h.push_str("</div>");
    card_fields(v, h);
    let _ = write!(
        h,
        r#"<button class="sp-primary sp-charge" data-testid="charge">{} <span data-charge>{}</span></button></form>"#,
        v.t(T::charge),
        v.money(amount)
    );
}

fn refund_form(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<form class="sp-panel" data-action="refund"><h2>{}</h2><label>{} <input name="rrn" required maxlength="12" data-testid="refund-rrn"></label><label>{} <input name="amount" inputmode="decimal" required data-testid="refund-amount"></label><label>{} <input name="supervisor" type="password" required data-testid="refund-supervisor"></label><button class="sp-primary" data-testid="refund-submit">{}</button></form>"#,
        v.t(T::refund),
        v.t(T::original_rrn),
        v.t(T::amount),
        v.t(T::supervisor_password),
        v.t(T::refund)
    );
}

fn kind_label(v: &View, kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Sale => v.t(T::sale),
        EntryKind::Void => v.t(T::void),
        EntryKind::Refund => v.t(T::refund),
        EntryKind::Reversal => v.t(T::reversal),
    }
}

fn status_label(v: &View, status: EntryStatus) -> &'static str {
    match status {
        EntryStatus::Approved => v.t(T::approved),
        EntryStatus::Declined => v.t(T::declined),
        EntryStatus::Unknown => v.t(T::unknown),
        EntryStatus::Reversed => v.t(T::reversed),
        EntryStatus::Voided => v.t(T::voided),
    }
}

fn journal_html(v: &View, core: &crate::terminal::Terminal) -> String {
    let journal = core.journal();
    let mut h = String::from(r#"<section class="sp-panel" data-testid="journal">"#);
    if journal.is_empty() {
        let _ = write!(h, "<p>{}</p></section>", v.t(T::empty_journal));
        return h;
    }
    let _ = write!(
        h,
        "<table class=\"sp-table\"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr></thead><tbody>",
        v.t(T::trace),
        v.t(T::kind),
        v.t(T::amount),
        v.t(T::status),
        v.t(T::rrn)
    );
    for e in journal.entries() {
        let status = journal.current_status(e);
        // A reversal the host answered by keeping the transaction (R8, dependents).
        let status_text = if e.kind == EntryKind::Reversal && status != EntryStatus::Reversed {
            v.t(T::not_reversed)
        } else {
            status_label(v, status)
        };
        let _ = write!(
            h,
            r#"<tr data-trace="{}"><td>{:06}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>"#,
            e.trace_no,
            e.trace_no,
            kind_label(v, e.kind),
            v.money(e.amount),
            status_text,
            esc(e.rrn.as_deref().unwrap_or(""))
        );
        if e.kind == EntryKind::Sale && status == EntryStatus::Approved {
            if v.ui.void_trace == Some(e.trace_no) {
                let _ = write!(
                    h,
                    r#"<form data-action="void" data-arg="{}" class="sp-inline"><label>{} <input name="supervisor" type="password" required data-testid="void-supervisor"></label><button class="sp-danger" data-testid="void-confirm">{}</button><button type="button" data-action="cancel-void">{}</button></form>"#,
                    e.trace_no,
                    v.t(T::supervisor_password),
                    v.t(T::confirm),
                    v.t(T::cancel)
                );
            } else {
                let _ = write!(
                    h,
                    r#"<button type="button" data-action="ask-void" data-arg="{}" data-testid="void-{}">{}</button>"#,
                    e.trace_no,
                    e.trace_no,
                    v.t(T::void)
                );
            }
        }
        h.push_str("</td></tr>");
    }
    h.push_str("</tbody></table></section>");
    h
}

fn totals_table(v: &View, t: &BatchTotals, h: &mut String) {
    let _ = write!(
        h,
        r#"<table class="sp-table sp-totals"><thead><tr><th></th><th>{}</th><th>{}</th></tr></thead><tbody>"#,
        v.t(T::count),
        v.t(T::amount)
    );
    for (key, totals, name) in [
        (T::sale, t.sale, "sale"),
        (T::void, t.void, "void"),
        (T::refund, t.refund, "refund"),
    ] {
        let _ = write!(
            h,
            r#"<tr data-row="{name}"><th>{}</th><td data-testid="{name}-count">{}</td><td data-testid="{name}-amount">{}</td></tr>"#,
            v.t(key),
            totals.count,
            v.money(totals.amount)
        );
    }
    let _ = write!(
        h,
        r#"<tr><th>{}</th><td></td><td data-testid="net-amount">{}</td></tr></tbody></table>"#,
        v.t(T::net),
        v.money(t.net_amount)
    );
}

fn result_panel(v: &View, r: &TxResult, h: &mut String) {
    let approved = r.status == TxStatus::Approved;
    let (class, title) = if approved {
        ("sp-ok", v.t(T::approved))
    } else {
        ("sp-bad", v.t(T::declined))
    };
    let kind = match r.kind {
        TxKind::Sale => v.t(T::sale),
        TxKind::Void => v.t(T::void),
        TxKind::Refund => v.t(T::refund),
    };
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-receipt sp-print {class}" data-testid="result" data-status="{}"><h2>{kind} · {title}</h2><p class="sp-big">{}</p><dl><dt>{}</dt><dd>{} {}</dd>"#,
        if approved { "approved" } else { "declined" },
        v.money(r.amount),
        v.t(T::status),
        esc(&r.response_code),
        esc(&r.message)
    );
    let mut row = |label: T, value: &str, id: &str| {
        if !value.is_empty() {
            let _ = write!(
                h,
                r#"<dt>{}</dt><dd data-testid="{id}">{}</dd>"#,
                v.t(label),
                esc(value)
            );
        }
    };
    row(T::card, r.masked_pan.as_deref().unwrap_or(""), "masked-pan");
    row(T::trace, &format!("{:06}", r.trace_no), "trace");
    row(T::batch, &format!("{:06}", r.batch_no), "batch");
    row(T::rrn, r.rrn.as_deref().unwrap_or(""), "rrn");
    row(
        T::auth_code,
        r.auth_code.as_deref().unwrap_or(""),
        "auth-code",
    );
    let _ = write!(
        h,
        r#"<dt></dt><dd data-testid="at">{}</dd></dl><button type="button" data-action="print">{}</button></section>"#,
        esc(&v.local_time(&r.at)),
        v.t(T::print)
    );
}

fn slip(v: &View, s: &SettlementResult, h: &mut String) {
    let (class, outcome) = match s.outcome {
        Outcome::Balanced => ("sp-ok", v.t(T::balanced)),
        Outcome::Unbalanced => ("sp-bad", v.t(T::unbalanced)),
    };
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-slip sp-print {class}" data-testid="slip" data-outcome="{}"><h2>{} · {} {:06}</h2><p class="sp-big">{outcome}</p><div class="sp-columns"><div><h3>{}</h3>"#,
        if s.outcome == Outcome::Balanced {
            "balanced"
        } else {
            "unbalanced"
        },
        v.t(T::slip),
        v.t(T::batch),
        s.batch_no,
        v.t(T::terminal_side)
    );
    totals_table(v, &s.terminal_totals, h);
    let _ = write!(h, "</div><div><h3>{}</h3>", v.t(T::host_side));
    totals_table(v, &s.host_totals, h);
    h.push_str("</div></div>");
    if !s.discrepancies.is_empty() {
        let _ = write!(
            h,
            "<h3>{}</h3><ul data-testid=\"discrepancies\">",
            v.t(T::discrepancies)
        );
        for d in &s.discrepancies {
            let kind = match d.kind {
                DiscrepancyKind::MissingOnTerminal => v.t(T::missing_on_terminal),
                DiscrepancyKind::MissingOnHost => v.t(T::missing_on_host),
                DiscrepancyKind::AmountMismatch => v.t(T::amount_mismatch),
                DiscrepancyKind::StatusMismatch => v.t(T::status_mismatch),
            };
            let _ = write!(h, "<li>{} {:06} · {kind}</li>", v.t(T::trace), d.trace_no);
        }
        h.push_str("</ul>");
    }
    let _ = write!(
        h,
        r#"<p>{} {:06} · <span data-testid="settled-at">{}</span></p><button type="button" data-action="print">{}</button></section>"#,
        v.t(T::next_batch),
        s.next_batch_no,
        esc(&v.local_time(&s.settled_at)),
        v.t(T::print)
    );
}

fn checkout(v: &View, amount: i64, reference: &str, h: &mut String) {
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
        (_, Some(r)) => {
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
                esc(&r.message),
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

// ----- events -----------------------------------------------------------------------------------

fn input_value(form: &Element, name: &str) -> String {
    form.query_selector(&format!("[name=\"{name}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

fn on_event(weak: &Weak<RefCell<Ui>>, e: Event) {
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
        .map_or(UtcOffset::UTC, |t| t.core.utc_offset())
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
        let currency = u.term.borrow().core.currency().unwrap_or(Currency::Cny);
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
    let value = |name: &str| input_value(form, name);
    let (command, doing) = {
        let u = ui.borrow();
        let currency = u.term.borrow().core.currency().unwrap_or(Currency::Cny);
        match action {
            "activate" => (
                Ok(Command::Activate {
                    code: value("code"),
                }),
                T::activate,
            ),
            "sign-in" => (
                Ok(Command::SignIn {
                    operator: value("operator").trim().to_owned(),
                    password: value("password"),
                }),
                T::sign_in,
            ),
            "sale" => (
                Ok(Command::Sale {
                    amount: keypad_amount(&u),
                    pan: value("pan"),
                    expiry: value("expiry"),
                }),
                T::sale,
            ),
            "pay" => {
                let Mode::Checkout { amount, .. } = u.mode else {
                    return;
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
                        supervisor_password: value("supervisor"),
                    }),
                T::void,
            ),
            "refund" => (
                currency
                    .parse_amount(&value("amount"))
                    .map(|amount| Command::Refund {
                        rrn: value("rrn"),
                        amount,
                        supervisor_password: value("supervisor"),
                    }),
                T::refund,
            ),
            _ => return,
        }
    };
    run(ui, command, doing);
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

fn show(ui: &Rc<RefCell<Ui>>, result: Result<Completion, Error>) {
    let dispatch = {
        let mut u = ui.borrow_mut();
        u.doing = None;
        let locale = u.locale;
        let mut dispatch = None;
        match result {
            Err(e) => {
                u.notice = Some(Notice {
                    error: true,
                    text: error_text(locale, &e),
                })
            }
            Ok(Completion::Activated) => {
                u.notice = Some(Notice {
                    error: false,
                    text: tr(locale, T::activated_done).to_owned(),
                })
            }
            Ok(Completion::SignedIn(r)) => {
                u.tab = Tab::Sale;
                // Batches reconciled at sign-in (R14) show their slip at once.
                u.slip = r.reconciled.last().cloned();
                u.notice = Some(Notice {
                    error: false,
                    text: format!(
                        "{} · {} {}",
                        tr(locale, T::signed_in),
                        tr(locale, T::operator),
                        r.operator
                    ),
                });
            }
            Ok(Completion::Transaction(r)) => {
                let approved = r.status == TxStatus::Approved;
                u.notice = Some(Notice {
                    error: false,
                    text: format!(
                        "{} {} {}",
                        tr(locale, if approved { T::approved } else { T::declined }),
                        r.response_code,
                        r.message
                    ),
                });
                u.digits.clear();
                u.void_trace = None;
                if matches!(u.mode, Mode::Checkout { .. }) {
                    dispatch = Some(super::to_js(&r));
                }
                u.result = Some(r);
            }
            Ok(Completion::Settled(s)) => {
                u.notice = Some(Notice {
                    error: false,
                    text: tr(
                        locale,
                        if s.outcome == Outcome::Balanced {
                            T::balanced
                        } else {
                            T::unbalanced
                        },
                    )
                    .to_owned(),
                });
                u.slip = Some(s);
            }
            Ok(Completion::SignedOff(r)) => {
                u.notice = Some(Notice {
                    error: false,
                    text: tr(locale, T::signed_off_done).to_owned(),
                });
                u.slip = r.settlement;
                u.tab = Tab::Sale;
            }
        }
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
