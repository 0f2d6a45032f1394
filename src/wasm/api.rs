//! The JavaScript API (docs/api.md for the host it talks to): the `Terminal` class,
//! `errorMessage`, and the `Terminal.open` configuration.
//!
//! Thin by design: each method converts its arguments, hands a command to the driver
//! (src/wasm/driver.rs) and converts the result or the error; every rule is the terminal's.

use super::client;
use super::codec::{self, field as read_field, ToJs};
use super::driver::{schedule_idle, start, Inner};
use super::js::{
    amount_field, camelize, card_field, completion_to_js, field, hold_fields, js_error, state_name,
    string_field, supervisor_field, to_js, trace_field,
};
use super::scope::now;
use super::storage::Storage;
use super::tab_lock;
use super::tab_session::TabSession;
use crate::error::{Error, ErrorCode};
use crate::terminal::{Command, Config, Terminal as Machine};
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

/// `Terminal.open` configuration (the JS `Config`).
struct JsConfig {
    host_url: String,
    merchant_id: String,
    terminal_id: String,
    storage: Option<String>,
    timeout_ms: Option<u32>,
    auto_sign_off_after_settle: Option<bool>,
    idle_sign_off_minutes: Option<u32>,
    max_batch_entries: Option<u32>,
}

const DEFAULT_TIMEOUT_MS: u32 = 15_000;
const CONFIG_KEYS: [&str; 8] = [
    "hostUrl",
    "merchantId",
    "terminalId",
    "storage",
    "timeoutMs",
    "autoSignOffAfterSettle",
    "idleSignOffMinutes",
    "maxBatchEntries",
];

impl JsConfig {
    fn read(v: &JsValue) -> Result<JsConfig, codec::Unreadable> {
        Ok(JsConfig {
            host_url: read_field(v, "hostUrl")?,
            merchant_id: read_field(v, "merchantId")?,
            terminal_id: read_field(v, "terminalId")?,
            storage: read_field(v, "storage")?,
            timeout_ms: read_field(v, "timeoutMs")?,
            auto_sign_off_after_settle: read_field(v, "autoSignOffAfterSettle")?,
            idle_sign_off_minutes: read_field(v, "idleSignOffMinutes")?,
            max_batch_entries: read_field(v, "maxBatchEntries")?,
        })
    }
}

/// An unknown key is most likely a misspelt option: say so rather than ignore it.
fn refuse_unknown_keys(config: &JsValue) -> Result<(), Error> {
    if config.is_object() {
        for key in Object::keys(config.unchecked_ref::<Object>()).iter() {
            let key = key.as_string().unwrap_or_default();
            if !CONFIG_KEYS.contains(&key.as_str()) {
                return Err(bad_request(format_args!("unknown config option \"{key}\"")));
            }
        }
    }
    Ok(())
}

fn bad_request(detail: impl std::fmt::Display) -> Error {
    Error::with_detail(ErrorCode::BadRequest, detail)
}

/// The sales of a `GET /v1/sales` answer as the JS API hands them out, camelCase
/// (`SaleFound[]`): passed on as the browser parsed them rather than read into Rust and
/// written out again, which would cost the shipped module its codec of them. An answer
/// without a list of sales is as good as none.
fn sales_found(answer: &JsValue) -> Result<JsValue, Error> {
    let sales = field(answer, "sales");
    if !Array::is_array(&sales) {
        return Err(ErrorCode::HostUnreachable.into());
    }
    Ok(camelize(sales))
}

/// The contract's message for an error code in a language (`"zh-CN"` or `"en"`), e.g.
/// `errorMessage("NOT_SIGNED_IN", "zh-CN")` is `"请先签到"`; `null` for an unknown code.
#[wasm_bindgen(js_name = errorMessage)]
pub fn error_message(code: &str, locale: Option<String>) -> Option<String> {
    let code = ErrorCode::parse(code)?;
    Some(
        match locale.as_deref() {
            Some(l) if l.starts_with("zh") => code.message_zh(),
            _ => code.message_en(),
        }
        .to_owned(),
    )
}

/// A payment terminal in the browser.
#[wasm_bindgen]
pub struct Terminal {
    pub(crate) inner: Rc<RefCell<Inner>>,
    /// What keeps a second tab off this terminal's journal (src/wasm/tab_lock.rs); freed on
    /// drop.
    _tab: Option<tab_lock::Guard>,
}

impl Terminal {
    /// `Terminal.open` for Rust callers (a Rust web app, the browser tests): the same
    /// configuration object, the terminal itself instead of a promise of it.
    pub async fn connect(config: JsValue) -> Result<Terminal, Error> {
        refuse_unknown_keys(&config)?;
        if !config.is_object() {
            return Err(bad_request("the config must be an object"));
        }
        let js = JsConfig::read(&config)
            .map_err(|e| bad_request(format_args!("invalid config: {e}")))?;
        let browser = match js.storage.as_deref() {
            None | Some("browser") => true,
            Some("memory") => false,
            Some(other) => {
                return Err(bad_request(format_args!(
                    "storage must be \"browser\" or \"memory\", not \"{other}\""
                )))
            }
        };
        if !(js.host_url.starts_with("http://") || js.host_url.starts_with("https://")) {
            return Err(bad_request("hostUrl must be an http(s) URL"));
        }
        let mut cfg = Config::new(&js.merchant_id, &js.terminal_id);
        cfg.auto_sign_off_after_settle = js.auto_sign_off_after_settle.unwrap_or(false);
        cfg.idle_sign_off_minutes = js.idle_sign_off_minutes.unwrap_or(0);
        if let Some(max) = js.max_batch_entries {
            cfg.max_batch_entries = max;
        }
        cfg.validate()?;
        let mut storage = Storage::open(browser).await?;
        // Only browser storage is shared between tabs; a memory terminal has its own journal.
        let tab = match storage.db() {
            Some(db) => {
                Some(tab_lock::Guard::acquire(&cfg.merchant_id, &cfg.terminal_id, db).await?)
            }
            None => None,
        };
        storage.set_fence(tab.as_ref().and_then(tab_lock::Guard::fence));
        let storage = Rc::new(storage);
        let t = now();
        let snapshot = storage.load(&cfg.merchant_id, &cfg.terminal_id).await?;
        let mut machine = match snapshot {
            Some(s) => Machine::restore(cfg.clone(), s, t)?,
            None => Machine::new(cfg.clone(), t)?,
        };
        // A restore may turn a transaction in flight into a queued reversal: store that now.
        let writes = machine.take_writes();
        storage
            .apply(&cfg.merchant_id, &cfg.terminal_id, &writes)
            .await?;
        // R14: a reload of this tab keeps its session; `storage: "memory"` keeps nothing.
        let tab_session = browser
            .then(|| TabSession::resume(&mut machine, now()))
            .flatten();
        let timeout_ms = js.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).max(1);
        let inner = Inner::new(machine, js.host_url, timeout_ms, storage, tab_session);
        let inner = Rc::new(RefCell::new(inner));
        // A resumed session's idle clock runs on from its last operation (R13).
        schedule_idle(&inner);
        Ok(Terminal { inner, _tab: tab })
    }

    /// Starts an operation and returns the promise of its result.
    fn run(&self, command: Result<Command, Error>) -> Promise {
        match start(&self.inner, command) {
            Err(e) => Promise::reject(&js_error(&e)),
            Ok(run) => future_to_promise(async move {
                run.await.map(completion_to_js).map_err(|e| js_error(&e))
            }),
        }
    }
}

#[wasm_bindgen]
impl Terminal {
    /// Opens the terminal for a merchant and terminal id, restoring what the browser kept.
    /// Rejects with `JOURNAL_TAMPERED` if the stored journal's hash chain is broken.
    #[wasm_bindgen(unchecked_return_type = "Promise<Terminal>")]
    pub fn open(#[wasm_bindgen(unchecked_param_type = "Config")] config: JsValue) -> Promise {
        future_to_promise(async move {
            Terminal::connect(config)
                .await
                .map(JsValue::from)
                .map_err(|e| js_error(&e))
        })
    }

    /// `"unactivated" | "signed_off" | "signed_in" | "busy"`.
    #[wasm_bindgen(getter, unchecked_return_type = "TerminalState")]
    pub fn state(&self) -> String {
        state_name(self.inner.borrow().machine.state()).to_owned()
    }

    /// The operator signed in, or `null`.
    #[wasm_bindgen(getter)]
    pub fn operator(&self) -> Option<String> {
        self.inner.borrow().machine.operator().map(str::to_owned)
    }

    /// The open batch, or `null` before activation.
    #[wasm_bindgen(getter, js_name = batchNo)]
    pub fn batch_no(&self) -> Option<u32> {
        self.inner.borrow().machine.batch_no()
    }

    /// Reversals waiting for the host (R8).
    #[wasm_bindgen(getter, js_name = pendingReversals)]
    pub fn pending_reversals(&self) -> u32 {
        u32::try_from(self.inner.borrow().machine.pending_reversals()).unwrap_or(u32::MAX)
    }

    /// Minor units above which a sale is confirmed by the cashier, with the amount in words,
    /// before it is sent: the host's setting for this terminal at the last sign-in
    /// (`1000000`, ¥10 000.00, until a host says otherwise).
    #[wasm_bindgen(getter, js_name = confirmAbove)]
    pub fn confirm_above(&self) -> f64 {
        // Below 2^53 (at most MAX_AMOUNT): a JS number holds it exactly.
        self.inner.borrow().machine.confirm_above() as f64
    }

    /// Exchanges the single-use activation code for the terminal key.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn activate(&self, activation_code: String) -> Promise {
        self.run(Ok(Command::Activate {
            code: activation_code,
        }))
    }

    /// 签到: signs an operator in.
    #[wasm_bindgen(js_name = signIn, unchecked_return_type = "Promise<SignInResult>")]
    pub fn sign_in(&self, operator: String, password: String) -> Promise {
        self.run(Ok(Command::SignIn {
            operator,
            password: password.into(),
        }))
    }

    /// 签到 of a lane of a checkout terminal (R23, the hosted checkout frame): no operator, no
    /// password; the host grants the lane's key a session that takes sales only. Followed by
    /// the housekeeping of any sign-in (R8 reversals, R14 reconciliation).
    #[wasm_bindgen(js_name = signInCheckout, unchecked_return_type = "Promise<SignInResult>")]
    pub fn sign_in_checkout(&self) -> Promise {
        self.run(Ok(Command::SignInCheckout))
    }

    /// 消费: a sale. A declined sale resolves with `status: "declined"`. Its `reference` (a
    /// storefront's order number) goes to the host and comes back in `TxResult.reference`.
    #[wasm_bindgen(unchecked_return_type = "Promise<TxResult>")]
    pub fn sale(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SaleRequest")] req: JsValue,
    ) -> Promise {
        let command = (|| {
            let amount = amount_field(&req, "amount")?;
            let (pan, expiry) = card_field(&req)?;
            Ok(Command::Sale {
                amount,
                pan,
                expiry,
                reference: string_field(&req, "reference"),
            })
        })();
        self.run(command)
    }

    /// 撤销: voids a sale of the open batch by trace number.
    #[wasm_bindgen(js_name = voidSale, unchecked_return_type = "Promise<TxResult>")]
    pub fn void_sale(
        &self,
        #[wasm_bindgen(unchecked_param_type = "VoidRequest")] req: JsValue,
    ) -> Promise {
        let command = trace_field(&req).map(|trace_no| Command::Void {
            trace_no,
            supervisor_password: supervisor_field(&req),
        });
        self.run(command)
    }

    /// 退货: refunds (part of) a sale by its RRN.
    #[wasm_bindgen(unchecked_return_type = "Promise<TxResult>")]
    pub fn refund(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RefundRequest")] req: JsValue,
    ) -> Promise {
        let command = (|| {
            Ok(Command::Refund {
                amount: amount_field(&req, "amount")?,
                rrn: string_field(&req, "rrn")
                    .ok_or_else(|| bad_request("rrn must be a string"))?,
                supervisor_password: supervisor_field(&req),
            })
        })();
        self.run(command)
    }

    /// 预授权 (R20): holds an amount on a card, counting in no total; its `rrn` and `authCode`
    /// name the hold. A declined one resolves with `status: "declined"`.
    #[wasm_bindgen(js_name = preAuth, unchecked_return_type = "Promise<TxResult>")]
    pub fn pre_auth(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PreAuthRequest")] req: JsValue,
    ) -> Promise {
        let command = amount_field(&req, "amount").and_then(|amount| {
            let (pan, expiry) = card_field(&req)?;
            Ok(Command::PreAuth {
                amount,
                pan,
                expiry,
            })
        });
        self.run(command)
    }

    /// 预授权撤销 (R20): releases a hold, for its whole amount, with the supervisor password.
    #[wasm_bindgen(js_name = preAuthVoid, unchecked_return_type = "Promise<TxResult>")]
    pub fn pre_auth_void(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PreAuthVoidRequest")] req: JsValue,
    ) -> Promise {
        let command = (|| {
            let (rrn, auth_code) = hold_fields(&req)?;
            Ok(Command::PreAuthVoid {
                rrn,
                auth_code,
                amount: amount_field(&req, "amount")?,
                supervisor_password: supervisor_field(&req),
            })
        })();
        self.run(command)
    }

    /// 预授权完成 (R20): a hold becomes a sale of at most 115 % of it, once (in `completion`).
    #[wasm_bindgen(unchecked_return_type = "Promise<TxResult>")]
    pub fn complete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CompletionRequest")] req: JsValue,
    ) -> Promise {
        let command = (|| {
            let (rrn, auth_code) = hold_fields(&req)?;
            let amount = amount_field(&req, "amount")?;
            let (pan, expiry) = card_field(&req)?;
            Ok(Command::Complete {
                rrn,
                auth_code,
                amount,
                pan,
                expiry,
            })
        })();
        self.run(command)
    }

    /// 预授权完成撤销 (R20): voids a completion of the open batch by trace number (in `void`).
    #[wasm_bindgen(js_name = completionVoid, unchecked_return_type = "Promise<TxResult>")]
    pub fn completion_void(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CompletionVoidRequest")] req: JsValue,
    ) -> Promise {
        let command = trace_field(&req).map(|trace_no| Command::CompletionVoid {
            trace_no,
            supervisor_password: supervisor_field(&req),
        });
        self.run(command)
    }

    /// The sales a refund may name (R7), from the host: any terminal and batch of the
    /// merchant, the last 30 days; by RRN (12 digits), trace number (1 to 6 digits) or the
    /// card's last 4 digits, the newest with `""`. Newest first, at most 20. A read beside
    /// the operations: refused with `BUSY` while one is in flight, and it holds nothing.
    #[wasm_bindgen(js_name = findSales, unchecked_return_type = "Promise<SaleFound[]>")]
    pub fn find_sales(&self, q: String) -> Promise {
        let (lookup, url, timeout) = {
            let i = self.inner.borrow();
            (i.machine.sales_lookup(&q), i.host_url.clone(), i.timeout_ms)
        };
        let lookup = match lookup {
            Ok(lookup) => lookup,
            Err(e) => return Promise::reject(&js_error(&e)),
        };
        future_to_promise(async move {
            let answer = client::get(&url, &lookup.path, &lookup.auth, timeout).await;
            answer
                .and_then(|json| sales_found(&json))
                .map_err(|e| js_error(&e))
        })
    }

    /// The open batch's totals (R10).
    #[wasm_bindgen(unchecked_return_type = "BatchTotals")]
    pub fn totals(&self) -> JsValue {
        to_js(&self.inner.borrow().machine.totals())
    }

    /// The open batch's journal, oldest first.
    #[wasm_bindgen(unchecked_return_type = "JournalEntry[]")]
    pub fn journal(&self) -> JsValue {
        let i = self.inner.borrow();
        let journal = i.machine.journal();
        journal
            .entries()
            .iter()
            .map(|e| {
                let view = to_js(e);
                let _ = Reflect::set(&view, &"recordedStatus".into(), &e.status.to_js());
                let _ = Reflect::set(&view, &"status".into(), &journal.current_status(e).to_js());
                view
            })
            .collect::<Array>()
            .into()
    }

    /// What was left open when the terminal opened (R14), or `null`.
    #[wasm_bindgen(unchecked_return_type = "Recovery | null")]
    pub fn recovery(&self) -> JsValue {
        match self.inner.borrow().machine.recovery() {
            Some(r) => to_js(r),
            None => JsValue::NULL,
        }
    }

    /// The last settlement, for reprinting the slip, or `null`.
    #[wasm_bindgen(js_name = lastSettlement, unchecked_return_type = "SettlementResult | null")]
    pub fn last_settlement(&self) -> JsValue {
        match self.inner.borrow().machine.last_settlement() {
            Some(r) => to_js(r),
            None => JsValue::NULL,
        }
    }

    /// The terminal's currency (ISO 4217), once the host has told it, or `null`.
    #[wasm_bindgen(getter)]
    pub fn currency(&self) -> Option<String> {
        self.inner
            .borrow()
            .machine
            .currency()
            .map(|c| c.code().to_owned())
    }

    /// Formats minor units in the terminal's currency (`¥12.50`), for receipts and screens.
    #[wasm_bindgen(js_name = formatAmount)]
    pub fn format_amount(&self, minor_units: f64) -> String {
        let currency = self
            .inner
            .borrow()
            .machine
            .currency()
            .unwrap_or(crate::terminal::money::Currency::Cny);
        currency.format(minor_units as i64)
    }

    /// 结算: settles the open batch (R11).
    #[wasm_bindgen(unchecked_return_type = "Promise<SettlementResult>")]
    pub fn settle(&self) -> Promise {
        self.run(Ok(Command::Settle))
    }

    /// 签退: signs off, settling first unless `{settle: false}` (R12).
    #[wasm_bindgen(js_name = signOff, unchecked_return_type = "Promise<SignOffResult>")]
    pub fn sign_off(
        &self,
        #[wasm_bindgen(unchecked_param_type = "{ settle?: boolean } | undefined")] opts: JsValue,
    ) -> Promise {
        let settle = field(&opts, "settle").as_bool().unwrap_or(true);
        self.run(Ok(Command::SignOff { settle }))
    }

    /// Calls `listener` on every event; returns the function that unsubscribes it.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: TerminalEvent) => void")] listener: Function,
    ) -> JsValue {
        let id = self.inner.borrow_mut().subscribe(listener);
        let weak = Rc::downgrade(&self.inner);
        // Leaked on purpose (a few bytes): JS may call it any number of times, or never.
        Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.borrow_mut().unsubscribe(id);
            }
        })
        .into_js_value()
    }
}
