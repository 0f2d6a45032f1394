//! The widget's state as HTML: the page, its header, the recovery steps (R14), the notices,
//! the counter's tabs and forms, and the storefront's checkout. Rendered whole into the root
//! on each change; the events (src/wasm/widget/events.rs) find their way back by `data-action`.

use super::records::{journal_html, result_panel, slip, totals_table};
use super::refund::refund_tab;
use super::text::{tr, Locale, T};
use super::{Mode, Tab, Ui};
use crate::protocol::BatchTotals;
use crate::terminal::money::Currency;
use crate::terminal::time::{Timestamp, UtcOffset};
use crate::terminal::{Recovery, RecoveryKind, State};
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;

/// Escapes text for HTML.
pub(super) fn esc(s: &str) -> String {
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

/// What one rendering shows: the widget's state and the terminal's, read once.
pub(super) struct View<'a> {
    pub(super) ui: &'a Ui,
    pub(super) state: State,
    pub(super) currency: Currency,
    pub(super) operator: Option<String>,
    batch_no: Option<u32>,
    pending_reversals: usize,
    recovery: Option<Recovery>,
    pub(super) totals: BatchTotals,
    /// Whose terminal, as its slips print it (R21).
    pub(super) merchant_name: Option<String>,
    pub(super) merchant_id: String,
    pub(super) terminal_id: String,
    /// The host's clock, for every date and time shown.
    utc_offset: UtcOffset,
}

impl View<'_> {
    pub(super) fn t(&self, key: T) -> &'static str {
        tr(self.ui.locale, key)
    }

    pub(super) fn money(&self, minor: i64) -> String {
        esc(&self.currency.format(minor))
    }

    /// An amount in words, as a cheque or a slip writes it: 大写金额 in Chinese.
    /// Empty for a currency without minor units, whose figures need no words to be read.
    pub(super) fn amount_in_words(&self, minor: i64) -> String {
        use crate::terminal::words::{amount_in_chinese, amount_in_english};
        let word = match self.currency {
            Currency::Cny if self.ui.locale == Locale::Zh => return amount_in_chinese(minor),
            Currency::Cny => "yuan",
            Currency::Hkd => "Hong Kong dollars",
            Currency::Usd => "US dollars",
            Currency::Eur => "euros",
            Currency::Gbp => "pounds",
            // No minor unit (yen, won) or three of them (dinar): words in hundredths would
            // misread it, and the figures are shown beside.
            Currency::Jpy | Currency::Krw | Currency::Kwd => return String::new(),
        };
        amount_in_english(minor, word)
    }

    /// An instant the terminal recorded (RFC 3339, UTC) as the merchant's wall clock reads it,
    /// `2026-12-04 16:49:00` (R21).
    pub(super) fn local_time(&self, at: &str) -> String {
        Timestamp::parse_utc(at)
            .map_or_else(|| at.to_owned(), |t| t.local(self.utc_offset).date_time())
    }
}

/// Renders the widget into its root, unless it or its terminal is mid-update.
pub(super) fn render(ui: &Rc<RefCell<Ui>>) {
    let Ok(ui) = ui.try_borrow() else {
        // A handler is mid-update and renders when it is done.
        return;
    };
    let html = {
        let Ok(term) = ui.term.try_borrow() else {
            return;
        };
        let machine = &term.machine;
        let view = View {
            ui: &ui,
            state: machine.state(),
            currency: machine.currency().unwrap_or(Currency::Cny),
            operator: machine.operator().map(str::to_owned),
            batch_no: machine.batch_no(),
            pending_reversals: machine.pending_reversals(),
            recovery: machine.recovery().cloned(),
            totals: machine.totals(),
            merchant_name: machine.merchant_name().map(str::to_owned),
            merchant_id: machine.config().merchant_id.clone(),
            terminal_id: machine.config().terminal_id.clone(),
            utc_offset: machine.utc_offset(),
        };
        // The tabs that read the journal are drawn while the terminal is borrowed.
        let journal = match (view.state, ui.tab, &ui.mode) {
            (State::SignedIn, tab, Mode::Counter) if tab != Tab::Sale => {
                let mut h = String::new();
                match tab {
                    Tab::Journal => {
                        super::paper::reprint_form(&view, &mut h);
                        h.push_str(&journal_html(&view, machine));
                    }
                    Tab::Totals => super::history::history_html(&view, machine, &mut h),
                    Tab::Query => super::query::tab(&view, machine, &mut h),
                    _ => refund_tab(&view, machine.journal(), &mut h),
                }
                Some(h)
            }
            _ => None,
        };
        page(&view, journal)
    };
    ui.root.set_inner_html(&html);
}

fn page(v: &View, journal: Option<String>) -> String {
    let lang = v.ui.locale.lang();
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
        Mode::Checkout { amount, reference } => {
            super::storefront::checkout(v, *amount, reference, &mut h)
        }
    }
    super::paper::paper_html(v, &mut h);
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
        r.totals.sale.count
            + r.totals.completion.map_or(0, |c| c.count)
            + r.totals.void.count
            + r.totals.refund.count,
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
                v.ui.running.as_ref().map_or("", |r| v.t(r.doing)),
                v.t(T::processing)
            );
        }
        State::SignedIn => signed_in_screen(v, journal, h),
    }
    if v.state != State::SignedIn {
        answers(v, h);
    }
}

/// The counter while an operator is signed in: the tabs, the last answer, the tab's panel,
/// and settle and sign off.
fn signed_in_screen(v: &View, journal: Option<String>, h: &mut String) {
    h.push_str(r#"<nav class="sp-tabs" role="tablist">"#);
    for (tab, key, name) in [
        (Tab::Sale, T::sale, "sale"),
        (Tab::Journal, T::journal, "journal"),
        (Tab::Refund, T::refund, "refund"),
        (Tab::PreAuth, T::preauth_tab, "preauth"),
        (Tab::Query, T::query_tab, "query"),
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
        Tab::Sale => match &v.ui.held {
            Some(held) => confirm_amount(v, held.amount, h),
            None => sale_form(v, h),
        },
        Tab::Journal | Tab::Refund | Tab::Query => h.push_str(&journal.unwrap_or_default()),
        Tab::PreAuth => super::preauth::tab(v, h),
        Tab::Totals => super::history::totals_tab(v, journal, h),
    }
    let _ = write!(
        h,
        r#"<footer class="sp-actions"><button type="button" data-action="settle" data-testid="settle">{}</button><button type="button" data-action="sign-off" data-testid="sign-off">{}</button></footer>"#,
        v.t(T::settle),
        v.t(T::sign_off)
    );
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

pub(super) fn card_fields(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<label>{} <input name="pan" inputmode="numeric" autocomplete="cc-number" required aria-describedby="sp-pan-hint" data-testid="pan"></label><span class="sp-hint" id="sp-pan-hint" data-hint="pan"></span><label>{} <input name="expiry" placeholder="MM/YY" inputmode="numeric" maxlength="5" autocomplete="cc-exp" required aria-describedby="sp-exp-hint" data-testid="expiry"></label><span class="sp-hint" id="sp-exp-hint" data-hint="expiry"></span>"#,
        v.t(T::card_number),
        v.t(T::expiry)
    );
}

/// The keypad's amount, in minor units.
pub(super) fn keypad_amount(ui: &Ui) -> i64 {
    ui.digits.parse().unwrap_or(0)
}

/// The amount and its keypad: one tab stop (the arrows walk the keys), digits typed anywhere
/// on the tab land here (src/wasm/widget/keys.rs).
pub(super) fn keypad_html(v: &View, label: T, h: &mut String) {
    let _ = write!(
        h,
        r#"<label class="sp-amount-label" id="sp-amount-label">{}</label><output class="sp-amount" tabindex="0" aria-labelledby="sp-amount-label" aria-live="polite" data-testid="amount">{}</output><div class="sp-keypad" role="group" aria-label="{}">"#,
        v.t(label),
        v.money(keypad_amount(v.ui)),
        v.t(T::keypad)
    );
    for (i, key) in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "00", "0", "⌫"]
        .into_iter()
        .enumerate()
    {
        let label = if key == "⌫" {
            format!(r#" aria-label="{}""#, v.t(T::clear))
        } else {
            String::new()
        };
        let tabindex = if i == 0 { "0" } else { "-1" };
        let _ = write!(
            h,
            r#"<button type="button" tabindex="{tabindex}" data-action="key" data-arg="{key}"{label}>{key}</button>"#
        );
    }
    h.push_str("</div>");
}

fn sale_form(v: &View, h: &mut String) {
    h.push_str(r#"<form class="sp-panel sp-sale" data-action="sale">"#);
    keypad_html(v, T::amount, h);
    card_fields(v, h);
    let _ = write!(
        h,
        r#"<button class="sp-primary sp-charge" data-testid="charge">{} <span data-charge>{}</span></button></form>"#,
        v.t(T::charge),
        v.money(keypad_amount(v.ui))
    );
}

/// A large sale, held: the amount in figures and in words, to be confirmed before it is sent.
fn confirm_amount(v: &View, amount: i64, h: &mut String) {
    let words = v.amount_in_words(amount);
    let _ = write!(
        h,
        r#"<section class="sp-panel sp-confirm" role="alertdialog" aria-labelledby="sp-confirm-title" aria-describedby="sp-confirm-figures" data-testid="confirm-amount"><h2 id="sp-confirm-title">{}</h2><p class="sp-big" id="sp-confirm-figures" data-testid="confirm-figures">{}</p>"#,
        v.t(T::confirm_amount_title),
        v.money(amount)
    );
    if !words.is_empty() {
        let _ = write!(
            h,
            r#"<p>{} <strong data-testid="confirm-words">{}</strong></p>"#,
            v.t(T::amount_in_words),
            esc(&words)
        );
    }
    let _ = write!(
        h,
        r#"<p class="sp-buttons"><button type="button" class="sp-primary" data-action="confirm-held" data-testid="confirm-held">{}</button><button type="button" data-action="cancel-held" data-testid="cancel-held">{}</button></p></section>"#,
        v.t(T::confirm_charge),
        v.t(T::cancel)
    );
}
