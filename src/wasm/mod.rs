//! The JavaScript API (CONTRACT.md section 3): the only code that touches wasm-bindgen,
//! web-sys and js-sys.
//!
//! Each method converts its arguments, asks the core, and awaits fetch and storage for it.
//! The state lives in an `Rc<RefCell<…>>` that is never borrowed across an `.await`, so a
//! second call while one is pending gets the core's `BUSY`, not a borrow panic.

mod client;
pub mod codec;
mod scope;
mod storage;
mod tab;
mod widget;

pub use widget::{mount_widget, mount_widget_error, WidgetHandle};

use crate::error::{Error, ErrorCode};
use crate::terminal::time::Timestamp;
use crate::terminal::{
    Command, Completion, Config, Event, Reply, SignOffReason, State, Step, Terminal as CoreTerminal,
};
use codec::{field as read_field, ToJs};
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use storage::Storage;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

// The module is single-threaded (no `atomics` target feature), which this allocator needs.
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
export type Config = {
  hostUrl: string; merchantId: string; terminalId: string;
  storage?: "browser" | "memory";
  timeoutMs?: number;
  autoSignOffAfterSettle?: boolean;
  idleSignOffMinutes?: number;
  maxBatchEntries?: number;
};
export type TerminalState = "unactivated" | "signed_off" | "signed_in" | "busy";
export type ErrorCode = "NOT_ACTIVATED" | "NOT_SIGNED_IN" | "BUSY" | "INVALID_AMOUNT" |
  "INVALID_CARD" | "UNKNOWN_TRANSACTION" | "ALREADY_VOIDED" | "VOID_NOT_ALLOWED_SETTLED" |
  "REFUND_EXCEEDS_ORIGINAL" | "SUPERVISOR_REQUIRED" | "BAD_CREDENTIALS" | "OPERATOR_LOCKED" |
  "SESSION_EXPIRED" | "HOST_UNREACHABLE" | "JOURNAL_TAMPERED" | "IDEMPOTENCY_CONFLICT" |
  "BATCH_FULL" | "BAD_REQUEST" | "INTERNAL";
/** Every rejection is an Error with one of the contract's codes. */
export type SoftposError = Error & { code: ErrorCode };
export type Totals = { count: number; amount: number };
export type BatchTotals = { batchNo: number; currency: string; sale: Totals; void: Totals;
  refund: Totals; netAmount: number };
export type SaleRequest = { amount: number; card: { pan: string; expiry: string }; reference?: string };
export type VoidRequest = { traceNo: number; supervisorPassword: string };
export type RefundRequest = { rrn: string; amount: number; supervisorPassword: string };
export type TxResult = { kind: "sale" | "void" | "refund"; status: "approved" | "declined";
  responseCode: string; message: string; traceNo: number; batchNo: number; rrn: string | null;
  authCode: string | null; amount: number; currency: string; maskedPan: string | null; at: string };
export type Discrepancy = { requestId: string; traceNo: number;
  kind: "missing_on_terminal" | "missing_on_host" | "amount_mismatch" | "status_mismatch" };
export type SettlementResult = { batchNo: number; outcome: "balanced" | "unbalanced";
  terminalTotals: BatchTotals; hostTotals: BatchTotals; discrepancies: Discrepancy[];
  nextBatchNo: number; settledAt: string };
export type SignInResult = { operator: string; businessDate: string; batchNo: number;
  currency: string; reconciled: SettlementResult[]; pendingReversals: number };
export type SignOffResult = { signedOffAt: string; settlement: SettlementResult | null };
/** `status` is the entry's status now (a voided sale shows "voided");
 *  `recordedStatus` is the one its hash covers. */
export type JournalEntry = { seq: number; requestId: string;
  kind: "sale" | "void" | "refund" | "reversal"; traceNo: number; amount: number;
  currency: string; status: "approved" | "declined" | "unknown" | "reversed" | "voided";
  recordedStatus: "approved" | "declined" | "unknown" | "reversed";
  responseCode: string | null; rrn: string | null; authCode: string | null;
  maskedPan: string | null; originalTraceNo: number | null; originalRrn: string | null;
  operator: string; at: string; prevHash: string; hash: string };
export type Recovery = { kind: "not_signed_off" | "not_settled"; batchNo: number;
  businessDate: string | null; operator: string | null; totals: BatchTotals;
  pendingReversals: number };
export type TerminalEvent = { type: "state" | "transaction" | "reversal_queued" | "reversed" |
  "settled" | "signed_off"; state: TerminalState; result?: TxResult | SettlementResult;
  requestId?: string; reason?: "requested" | "after_settle" | "idle" | "session_expired" };
"#;

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

pub(crate) struct Inner {
    core: CoreTerminal,
    host_url: String,
    timeout_ms: u32,
    storage: Rc<Storage>,
    listeners: Vec<(u32, Function)>,
    next_listener: u32,
    /// R13's timer; dropping it cancels it.
    idle_timer: Option<scope::Timer>,
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
    /// What keeps a second tab off this terminal's journal (src/wasm/tab.rs); freed on drop.
    _tab: Option<tab::Guard>,
}

pub(crate) fn now() -> Timestamp {
    // Date.now() is an integral number of milliseconds well inside i64.
    Timestamp(js_sys::Date::now() as i64)
}

fn new_request_id() -> String {
    // Called with the state borrowed: it must not throw, as `crypto.randomUUID` does where the
    // page is not a secure context.
    scope::new_uuid()
}

/// The contract's error as a JS `Error` with a `code`.
pub(crate) fn js_error(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.message);
    let _ = Reflect::set(&err, &"code".into(), &e.code.as_str().into());
    err.into()
}

fn bad_request(detail: impl std::fmt::Display) -> Error {
    Error::with_detail(ErrorCode::BadRequest, detail)
}

/// A plain JS object with camelCase keys, as the JS API speaks.
pub(crate) fn to_js<T: ToJs + ?Sized>(value: &T) -> JsValue {
    camelize(value.to_js())
}

fn camelize(v: JsValue) -> JsValue {
    if Array::is_array(&v) {
        return Array::from(&v)
            .iter()
            .map(camelize)
            .collect::<Array>()
            .into();
    }
    if !v.is_object() {
        return v;
    }
    let out = Object::new();
    for key in Object::keys(v.unchecked_ref::<Object>()).iter() {
        let name = key.as_string().unwrap_or_default();
        let mut camel = String::with_capacity(name.len());
        let mut upper = false;
        for ch in name.chars() {
            match ch {
                '_' => upper = true,
                _ if upper => {
                    camel.push(ch.to_ascii_uppercase());
                    upper = false;
                }
                _ => camel.push(ch),
            }
        }
        let inner = Reflect::get(&v, &key).unwrap_or(JsValue::UNDEFINED);
        let _ = Reflect::set(&out, &camel.into(), &camelize(inner));
    }
    out.into()
}

pub(crate) fn field(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn string_field(obj: &JsValue, key: &str) -> Result<String, Error> {
    field(obj, key)
        .as_string()
        .ok_or_else(|| bad_request(format_args!("{key} must be a string")))
}

/// R3 at the JS boundary: a number that is a safe integer, else `INVALID_AMOUNT`; the core
/// checks the range.
pub(crate) fn amount_field(obj: &JsValue, key: &str) -> Result<i64, Error> {
    let v = field(obj, key);
    if !js_sys::Number::is_safe_integer(&v) {
        return Err(Error::with_detail(
            ErrorCode::InvalidAmount,
            format_args!("{key} must be an integer number of minor units"),
        ));
    }
    // A safe integer is exactly representable in i64.
    Ok(v.as_f64().unwrap_or(0.0) as i64)
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Unactivated => "unactivated",
        State::SignedOff => "signed_off",
        State::SignedIn => "signed_in",
        State::Busy => "busy",
    }
}

fn completion_to_js(c: Completion) -> JsValue {
    match c {
        Completion::Activated => JsValue::UNDEFINED,
        Completion::SignedIn(r) => to_js(&r),
        Completion::Transaction(r) => to_js(&r),
        Completion::Settled(r) => to_js(&r),
        Completion::SignedOff(r) => to_js(&r),
    }
}

fn event_to_js(event: &Event, state: State) -> JsValue {
    let obj = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&obj, &k.into(), &v);
    };
    let kind = match event {
        Event::State(_) => "state",
        Event::Transaction(r) => {
            set("result", to_js(r));
            "transaction"
        }
        Event::ReversalQueued { request_id } => {
            set("requestId", request_id.into());
            "reversal_queued"
        }
        Event::Reversed { request_id } => {
            set("requestId", request_id.into());
            "reversed"
        }
        Event::Settled(r) => {
            set("result", to_js(r));
            "settled"
        }
        Event::SignedOff { reason } => {
            let reason = match reason {
                SignOffReason::Requested => "requested",
                SignOffReason::AfterSettle => "after_settle",
                SignOffReason::Idle => "idle",
                SignOffReason::SessionExpired => "session_expired",
            };
            set("reason", reason.into());
            "signed_off"
        }
    };
    set("type", kind.into());
    set("state", state_name(state).into());
    obj.into()
}

/// Hands the core's events to the listeners, with no borrow held while they run (a
/// listener may call back into the terminal).
fn flush_events(inner: &Rc<RefCell<Inner>>) {
    let (events, listeners, state) = {
        let mut i = inner.borrow_mut();
        let mut events = Vec::new();
        while let Some(e) = i.core.poll_event() {
            events.push(e);
        }
        let listeners: Vec<Function> = i.listeners.iter().map(|(_, f)| f.clone()).collect();
        (events, listeners, i.core.state())
    };
    if listeners.is_empty() {
        // Nobody to tell: skip building the JS objects (a sale's result would be built twice).
        return;
    }
    for event in &events {
        let js = event_to_js(event, state);
        for f in &listeners {
            // A listener that throws must not stop the terminal or the other listeners.
            let _ = f.call1(&JsValue::NULL, &js);
        }
    }
}

/// Runs the operation in flight to its end: persist, send, feed the answer, repeat.
async fn drive(inner: Rc<RefCell<Inner>>) -> Result<Completion, Error> {
    loop {
        let (step, writes, storage, merchant, terminal) = {
            let mut i = inner.borrow_mut();
            let step = i.core.step(now(), &mut new_request_id);
            let writes = i.core.take_writes();
            let cfg = i.core.config();
            let (m, t) = (cfg.merchant_id.clone(), cfg.terminal_id.clone());
            (step, writes, i.storage.clone(), m, t)
        };
        // R18: nothing leaves before what it belongs to is stored.
        if let Err(e) = storage.apply(&merchant, &terminal, &writes).await {
            if let Step::Send(_) = step {
                inner
                    .borrow_mut()
                    .core
                    .handle_reply(Reply::Refused(e), now());
                flush_events(&inner);
                continue;
            }
            flush_events(&inner);
            return Err(e);
        }
        flush_events(&inner);
        match step {
            Step::Send(out) => {
                let (url, timeout) = {
                    let i = inner.borrow();
                    (i.host_url.clone(), i.timeout_ms)
                };
                let reply = client::send(&url, &out, timeout).await;
                inner.borrow_mut().core.handle_reply(reply, now());
            }
            Step::Done(result) => {
                schedule_idle(&inner);
                return result;
            }
            Step::Idle => return Err(ErrorCode::Internal.into()),
        }
    }
}

/// Starts an operation now (refusals are immediate, as R1–R4 want: nothing is sent) and
/// returns the future that runs it to its end.
pub(crate) fn start(
    inner: &Rc<RefCell<Inner>>,
    command: Result<Command, Error>,
) -> Result<impl std::future::Future<Output = Result<Completion, Error>>, Error> {
    command.and_then(|c| inner.borrow_mut().core.begin(c, now()))?;
    flush_events(inner);
    let inner = inner.clone();
    Ok(async move {
        let result = drive(inner.clone()).await;
        flush_events(&inner);
        result
    })
}

/// R13: arms a timer for the idle sign-off, replacing the previous one.
fn schedule_idle(inner: &Rc<RefCell<Inner>>) {
    let mut i = inner.borrow_mut();
    i.idle_timer = None;
    let Some(at) = i.core.next_timer() else {
        return;
    };
    let weak: Weak<RefCell<Inner>> = Rc::downgrade(inner);
    let fire = move || {
        let Some(inner) = weak.upgrade() else {
            return;
        };
        let started = inner.borrow_mut().core.handle_timer(now());
        if started {
            flush_events(&inner);
            wasm_bindgen_futures::spawn_local(async move {
                let _ = drive(inner.clone()).await;
                flush_events(&inner);
            });
        } else {
            // Busy, or activity moved the deadline: look again later.
            schedule_idle(&inner);
        }
    };
    i.idle_timer = scope::Timer::once(at.millis() - now().millis(), fire);
}

impl Terminal {
    /// `Terminal.open` for Rust callers (a Rust web app, the browser tests): the same
    /// configuration object, the terminal itself instead of a promise of it.
    pub async fn connect(config: JsValue) -> Result<Terminal, Error> {
        // An unknown key is most likely a misspelt option: say so rather than ignore it.
        if config.is_object() {
            for key in Object::keys(config.unchecked_ref::<Object>()).iter() {
                let key = key.as_string().unwrap_or_default();
                if !CONFIG_KEYS.contains(&key.as_str()) {
                    return Err(bad_request(format_args!("unknown config option \"{key}\"")));
                }
            }
        }
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
            Some(db) => Some(tab::Guard::acquire(&cfg.merchant_id, &cfg.terminal_id, db).await?),
            None => None,
        };
        storage.set_fence(tab.as_ref().and_then(tab::Guard::fence));
        let storage = Rc::new(storage);
        let t = now();
        let snapshot = storage.load(&cfg.merchant_id, &cfg.terminal_id).await?;
        let mut core = match snapshot {
            Some(s) => CoreTerminal::restore(cfg.clone(), s, t)?,
            None => CoreTerminal::new(cfg.clone(), t)?,
        };
        // A restore may turn a transaction in flight into a queued reversal: store that now.
        let writes = core.take_writes();
        storage
            .apply(&cfg.merchant_id, &cfg.terminal_id, &writes)
            .await?;
        let inner = Rc::new(RefCell::new(Inner {
            core,
            host_url: js.host_url,
            timeout_ms: js.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).max(1),
            storage,
            listeners: Vec::new(),
            next_listener: 0,
            idle_timer: None,
        }));
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
        state_name(self.inner.borrow().core.state()).to_owned()
    }

    /// The operator signed in, or `null`.
    #[wasm_bindgen(getter)]
    pub fn operator(&self) -> Option<String> {
        self.inner.borrow().core.operator().map(str::to_owned)
    }

    /// The open batch, or `null` before activation.
    #[wasm_bindgen(getter, js_name = batchNo)]
    pub fn batch_no(&self) -> Option<u32> {
        self.inner.borrow().core.batch_no()
    }

    /// Reversals waiting for the host (R8).
    #[wasm_bindgen(getter, js_name = pendingReversals)]
    pub fn pending_reversals(&self) -> u32 {
        u32::try_from(self.inner.borrow().core.pending_reversals()).unwrap_or(u32::MAX)
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
        self.run(Ok(Command::SignIn { operator, password }))
    }

    /// 消费: a sale. A declined sale resolves with `status: "declined"`.
    #[wasm_bindgen(unchecked_return_type = "Promise<TxResult>")]
    pub fn sale(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SaleRequest")] req: JsValue,
    ) -> Promise {
        let command = (|| {
            let amount = amount_field(&req, "amount")?;
            let card = field(&req, "card");
            if !card.is_object() {
                return Err(Error::with_detail(
                    ErrorCode::InvalidCard,
                    "card is required",
                ));
            }
            let text = |k: &str| {
                field(&card, k).as_string().ok_or_else(|| {
                    Error::with_detail(
                        ErrorCode::InvalidCard,
                        format_args!("card.{k} must be a string"),
                    )
                })
            };
            Ok(Command::Sale {
                amount,
                pan: text("pan")?,
                expiry: text("expiry")?,
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
        let command = (|| {
            let trace = field(&req, "traceNo");
            let trace_no = trace
                .as_f64()
                .filter(|_| js_sys::Number::is_safe_integer(&trace))
                .and_then(|t| u32::try_from(t as i64).ok())
                .ok_or_else(|| {
                    Error::with_detail(
                        ErrorCode::UnknownTransaction,
                        "traceNo must be a trace number",
                    )
                })?;
            Ok(Command::Void {
                trace_no,
                supervisor_password: field(&req, "supervisorPassword")
                    .as_string()
                    .unwrap_or_default(),
            })
        })();
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
                rrn: string_field(&req, "rrn")?,
                supervisor_password: field(&req, "supervisorPassword")
                    .as_string()
                    .unwrap_or_default(),
            })
        })();
        self.run(command)
    }

    /// The open batch's totals (R10).
    #[wasm_bindgen(unchecked_return_type = "BatchTotals")]
    pub fn totals(&self) -> JsValue {
        to_js(&self.inner.borrow().core.totals())
    }

    /// The open batch's journal, oldest first.
    #[wasm_bindgen(unchecked_return_type = "JournalEntry[]")]
    pub fn journal(&self) -> JsValue {
        let i = self.inner.borrow();
        let journal = i.core.journal();
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
        match self.inner.borrow().core.recovery() {
            Some(r) => to_js(r),
            None => JsValue::NULL,
        }
    }

    /// The last settlement, for reprinting the slip, or `null`.
    #[wasm_bindgen(js_name = lastSettlement, unchecked_return_type = "SettlementResult | null")]
    pub fn last_settlement(&self) -> JsValue {
        match self.inner.borrow().core.last_settlement() {
            Some(r) => to_js(r),
            None => JsValue::NULL,
        }
    }

    /// The terminal's currency (ISO 4217), once the host has told it, or `null`.
    #[wasm_bindgen(getter)]
    pub fn currency(&self) -> Option<String> {
        self.inner
            .borrow()
            .core
            .currency()
            .map(|c| c.code().to_owned())
    }

    /// Formats minor units in the terminal's currency (`¥12.50`), for receipts and screens.
    #[wasm_bindgen(js_name = formatAmount)]
    pub fn format_amount(&self, minor_units: f64) -> String {
        let currency = self
            .inner
            .borrow()
            .core
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
        let id = {
            let mut i = self.inner.borrow_mut();
            i.next_listener += 1;
            let id = i.next_listener;
            i.listeners.push((id, listener));
            id
        };
        let weak = Rc::downgrade(&self.inner);
        // Leaked on purpose (a few bytes): JS may call it any number of times, or never.
        Closure::<dyn FnMut()>::new(move || {
            if let Some(inner) = weak.upgrade() {
                inner.borrow_mut().listeners.retain(|(i, _)| *i != id);
            }
        })
        .into_js_value()
    }
}
