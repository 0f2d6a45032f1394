//! R20 at the counter, the pre-authorisation tab [预授权]: a hold (amount and card), its
//! release [预授权撤销] (RRN, auth code, the held amount, supervisor), its completion
//! [预授权完成] (RRN, auth code, amount, card) and a completion's void [预授权完成撤销] (trace,
//! supervisor). One form at a time, chosen by a row of buttons; amounts on the sale's keypad,
//! in minor units. Every rule is the terminal's; the answer shows as a sale's does.

use super::events::input_value;
use super::render::{card_fields, esc, keypad_amount, keypad_html, render, View};
use super::text::T;
use super::Ui;
use crate::error::{Error, ErrorCode};
use crate::terminal::Command;
use std::cell::RefCell;
use std::fmt::Write as _;
use std::rc::Rc;
use web_sys::Element;

/// Which of the four the tab shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum PreAuthOp {
    Hold,
    Release,
    Complete,
    VoidCompletion,
}

const OPS: [PreAuthOp; 4] = [
    PreAuthOp::Hold,
    PreAuthOp::Release,
    PreAuthOp::Complete,
    PreAuthOp::VoidCompletion,
];

impl PreAuthOp {
    /// Its `data-action` (the form's) and `data-arg` (the chooser's).
    fn name(self) -> &'static str {
        match self {
            PreAuthOp::Hold => "preauth",
            PreAuthOp::Release => "preauth-void",
            PreAuthOp::Complete => "complete",
            PreAuthOp::VoidCompletion => "completion-void",
        }
    }

    /// What the screen calls it, also while it runs.
    pub(super) fn title(self) -> T {
        match self {
            PreAuthOp::Hold => T::preauth,
            PreAuthOp::Release => T::preauth_void,
            PreAuthOp::Complete => T::completion,
            PreAuthOp::VoidCompletion => T::completion_void,
        }
    }

    /// Whether its form takes an amount on the keypad (src/wasm/widget/keys.rs).
    pub(super) fn has_amount(self) -> bool {
        self != PreAuthOp::VoidCompletion
    }
}

/// Whether an operation in flight is one of these (for the words of a lost answer, R8).
pub(super) fn is_preauth(doing: T) -> bool {
    OPS.iter().any(|op| op.title() == doing)
}

/// The chooser's button: that form, with an empty amount.
pub(super) fn click(ui: &Rc<RefCell<Ui>>, arg: &str) {
    {
        let mut u = ui.borrow_mut();
        u.preauth_op = OPS
            .into_iter()
            .find(|op| op.name() == arg)
            .unwrap_or(PreAuthOp::Hold);
        u.digits.clear();
        u.notice = None;
        u.result = None;
        u.slip = None;
    }
    render(ui);
    // The form's first field; the chooser's button keeps focus if there is none.
    super::keys::focus_first(
        ui,
        &[
            ".sp-preauth [name=\"rrn\"]",
            ".sp-preauth [name=\"trace\"]",
            ".sp-preauth .sp-amount",
        ],
    );
}

/// The command a pre-authorisation form asks for, and what the in-progress screen calls it.
pub(super) fn command(u: &Ui, action: &str, form: &Element) -> Option<(Result<Command, Error>, T)> {
    let op = OPS.into_iter().find(|op| op.name() == action)?;
    let value = |name: &str| input_value(form, name);
    let amount = keypad_amount(u);
    let command = match op {
        PreAuthOp::Hold => Ok(Command::PreAuth {
            amount,
            pan: value("pan"),
            expiry: value("expiry"),
        }),
        PreAuthOp::Release => Ok(Command::PreAuthVoid {
            rrn: value("rrn"),
            auth_code: value("auth"),
            amount,
            supervisor_password: value("supervisor").into(),
        }),
        PreAuthOp::Complete => Ok(Command::Complete {
            rrn: value("rrn"),
            auth_code: value("auth"),
            amount,
            pan: value("pan"),
            expiry: value("expiry"),
        }),
        PreAuthOp::VoidCompletion => value("trace")
            .trim()
            .parse::<u32>()
            .map_err(|_| Error::from(ErrorCode::UnknownTransaction))
            .map(|trace_no| Command::CompletionVoid {
                trace_no,
                supervisor_password: value("supervisor").into(),
            }),
    };
    Some((command, op.title()))
}

/// The tab: the chooser, then the chosen form.
pub(super) fn tab(v: &View, h: &mut String) {
    let chosen = v.ui.preauth_op;
    let _ = write!(
        h,
        r#"<div class="sp-ops" role="group" aria-label="{}">"#,
        v.t(T::preauth_tab)
    );
    for op in OPS {
        let _ = write!(
            h,
            r#"<button type="button" aria-pressed="{}" data-action="preauth-op" data-arg="{name}" data-testid="op-{name}">{}</button>"#,
            op == chosen,
            v.t(op.title()),
            name = op.name()
        );
    }
    let _ = write!(
        h,
        r#"</div><form class="sp-panel sp-sale sp-preauth" data-action="{}" data-testid="preauth-form"><h2>{}</h2>"#,
        chosen.name(),
        v.t(chosen.title())
    );
    match chosen {
        PreAuthOp::Hold => {
            keypad_html(v, T::amount, h);
            card_fields(v, h);
        }
        PreAuthOp::Release => {
            hold_fields(v, h);
            keypad_html(v, T::held_amount, h);
            supervisor(v, h);
        }
        PreAuthOp::Complete => {
            hold_fields(v, h);
            keypad_html(v, T::completion_amount, h);
            let _ = write!(
                h,
                r#"<span class="sp-hint">{}</span>"#,
                v.t(T::completion_hint)
            );
            card_fields(v, h);
        }
        PreAuthOp::VoidCompletion => {
            let _ = write!(
                h,
                r#"<label>{} <input name="trace" inputmode="numeric" maxlength="6" autocomplete="off" required data-testid="preauth-trace"></label>"#,
                v.t(T::completion_trace)
            );
            supervisor(v, h);
        }
    }
    let amount = if chosen.has_amount() {
        v.money(keypad_amount(v.ui))
    } else {
        String::new()
    };
    let _ = write!(
        h,
        r#"<button class="sp-primary sp-charge" data-testid="preauth-submit">{} <span data-charge>{amount}</span></button></form>"#,
        esc(v.t(chosen.title()))
    );
}

/// The hold a release or completion names: its RRN and auth code, as the hold's slip shows them.
fn hold_fields(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<label>{} <input name="rrn" maxlength="12" autocomplete="off" required data-testid="preauth-rrn"></label><label>{} <input name="auth" maxlength="6" autocomplete="off" required data-testid="preauth-auth"></label>"#,
        v.t(T::preauth_rrn),
        v.t(T::preauth_auth_code)
    );
}

fn supervisor(v: &View, h: &mut String) {
    let _ = write!(
        h,
        r#"<label>{} <input name="supervisor" type="password" autocomplete="off" data-testid="preauth-supervisor"></label>"#,
        v.t(T::supervisor_password)
    );
}
