//! A driver and an in-memory host model for the native core tests.
//!
//! The core is sans-IO, so its rules are tested here without a network: `Bench` plays the
//! wasm driver (persisting every write before a request leaves, checking R18 as it goes) and
//! `ModelHost` answers like the reference host would. The real host is tested over HTTP in
//! `host/tests`, and the two together in the browser tests.
#![allow(dead_code)]

use softpos::ids::{BatchNo, RequestId, TraceNo};
use softpos::protocol::*;
use softpos::terminal::journal::ledger_lines;
use softpos::terminal::money::ConfirmAbove;
use softpos::terminal::settlement::{compare, fold, LedgerLine, LineStatus};
use softpos::terminal::time::Timestamp;
use softpos::terminal::{
    Auth, Call, Command, Completion, Config, Meta, Outgoing, Reply, Snapshot, Step, Terminal, Write,
};
use softpos::{Error, ErrorCode};
use std::collections::{HashMap, HashSet, VecDeque};

pub const MERCHANT: &str = "898310048160001";
pub const TERMINAL: &str = "10000001";
pub const CODE: &str = "ACT-123456";
pub const OPERATOR: &str = "01";
pub const PASSWORD: &str = "op-pass-01";
pub const SUPERVISOR: &str = "sup-pass-00";
pub const CARD: &str = "6212345678901232";
pub const EXPIRY: &str = "12/30";
pub const DECLINED_CARD: &str = "4000000000000002";
/// 2026-11-28T02:00:00Z
pub const T0: Timestamp = Timestamp(1_795_831_200_000);

/// A void of `trace_no`, with the supervisor's password (R6).
pub fn void(trace_no: u32) -> Command {
    Command::Void {
        trace_no,
        supervisor_password: SUPERVISOR.into(),
    }
}

/// A refund of `amount` of the sale with `rrn`, with the supervisor's password (R7).
pub fn refund(rrn: &str, amount: i64) -> Command {
    Command::Refund {
        rrn: rrn.into(),
        amount,
        supervisor_password: SUPERVISOR.into(),
    }
}

/// A pre-authorisation of `amount` on the test card (R20).
pub fn preauth(amount: i64) -> Command {
    Command::PreAuth {
        amount,
        pan: CARD.into(),
        expiry: EXPIRY.into(),
    }
}

/// The release of the hold `rrn`/`auth_code` for `amount`, with the supervisor's password.
pub fn preauth_void(rrn: &str, auth_code: &str, amount: i64) -> Command {
    Command::PreAuthVoid {
        rrn: rrn.into(),
        auth_code: auth_code.into(),
        amount,
        supervisor_password: SUPERVISOR.into(),
    }
}

/// The completion of the hold `rrn`/`auth_code` for `amount`, on the test card.
pub fn complete(rrn: &str, auth_code: &str, amount: i64) -> Command {
    Command::Complete {
        rrn: rrn.into(),
        auth_code: auth_code.into(),
        amount,
        pan: CARD.into(),
        expiry: EXPIRY.into(),
    }
}

/// The void of the completion with `trace_no`, with the supervisor's password.
pub fn completion_void(trace_no: u32) -> Command {
    Command::CompletionVoid {
        trace_no,
        supervisor_password: SUPERVISOR.into(),
    }
}

/// What happens to the next request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The request never reaches the host.
    Unreachable,
    /// The host acts on it, but the answer is lost.
    LoseAnswer,
}

#[derive(Debug, Clone)]
struct HostTx {
    request_id: String,
    batch_no: u32,
    kind: TxKind,
    trace_no: u32,
    amount: i64,
    status: LineStatus,
    rrn: String,
    voided: bool,
    refunded: i64,
    original: Option<OriginalRef>,
    /// As the host keeps it: the card's, or for a void or refund its sale's (R21).
    masked_pan: Option<String>,
    /// The auth code of an approved transaction (R20 names a hold by RRN and auth code).
    auth_code: String,
    /// R20, a hold: released by a pre-auth void.
    released: bool,
    /// R20, a hold: completed (a completion void opens it again).
    completed: bool,
    /// R20, a hold: more than 30 days old (`ModelHost::age_holds`).
    expired: bool,
}

/// R20: which holds the model host answers for, and what a refused one is refused with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HoldUse {
    Release,
    Complete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HostBatch {
    Open,
    AwaitingUpload,
    Settled,
    ClosedByHost,
}

/// The host's rules, in memory, as far as the core tests need them.
#[derive(Debug)]
pub struct ModelHost {
    code: Option<String>,
    key: Option<String>,
    sessions: HashSet<String>,
    /// Sessions the merchant ended from the console (R22).
    remote_off: HashSet<String>,
    tokens: u32,
    pub open_batch: u32,
    batches: HashMap<u32, HostBatch>,
    next_trace: u32,
    txs: Vec<HostTx>,
    tombstones: HashSet<String>,
    answers: HashMap<String, Reply>,
    rrn: u64,
    pub business_date: String,
    /// What the host says of its clock at sign-in; `None` as an older host.
    pub utc_offset_minutes: Option<i32>,
    /// The terminal's confirmation threshold it tells at sign-in.
    pub confirm_above: ConfirmAbove,
    /// The merchant's name it tells at sign-in (R21); `None` as a host without one.
    pub merchant_name: Option<String>,
    pub requests: Vec<Call>,
    /// The acquirer's verdict its settlement and upload answers carry; `None` as an older host.
    pub acquirer: Option<AcquirerVerdict>,
    /// R11: the entries of a chunked upload received so far, by its request id.
    chunks: HashMap<String, Vec<JournalEntry>>,
}

impl Default for ModelHost {
    fn default() -> Self {
        ModelHost {
            code: Some(CODE.into()),
            key: None,
            sessions: HashSet::new(),
            remote_off: HashSet::new(),
            tokens: 0,
            open_batch: 1,
            batches: HashMap::from([(1, HostBatch::Open)]),
            next_trace: 1,
            txs: Vec::new(),
            tombstones: HashSet::new(),
            answers: HashMap::new(),
            rrn: 0,
            business_date: "2026-11-28".into(),
            utc_offset_minutes: None,
            confirm_above: ConfirmAbove::DEFAULT,
            merchant_name: None,
            requests: Vec::new(),
            acquirer: None,
            chunks: HashMap::new(),
        }
    }
}

fn refuse(code: ErrorCode) -> Reply {
    Reply::Refused(Error::new(code))
}

/// A batch number the model host keeps as a plain number.
pub fn bn(n: u32) -> BatchNo {
    BatchNo::try_from(n).expect("a batch number")
}

/// A trace number the model host keeps as a plain number.
pub fn tn(n: u32) -> TraceNo {
    TraceNo::try_from(n).expect("a trace number")
}

/// A request id the model host keeps as text.
pub fn rid(id: &str) -> RequestId {
    RequestId::parse(id).expect("a UUID")
}

impl ModelHost {
    fn lines(&self, batch_no: u32) -> Vec<LedgerLine> {
        self.txs
            .iter()
            .filter(|t| t.batch_no == batch_no)
            .map(|t| LedgerLine {
                request_id: rid(&t.request_id),
                kind: t.kind,
                trace_no: tn(t.trace_no),
                amount: t.amount,
                status: t.status,
                origin: CardOrigin::of_pan(t.masked_pan.as_deref()),
            })
            .collect()
    }

    pub fn totals(&self, batch_no: u32) -> BatchTotals {
        fold(&self.lines(batch_no))
            .expect("the model host's totals fit")
            .to_batch_totals(batch_no, "CNY")
    }

    /// R15: closes the open batch if it has transactions and ends every session.
    pub fn cutoff(&mut self) {
        if self.txs.iter().any(|t| t.batch_no == self.open_batch) {
            self.batches
                .insert(self.open_batch, HostBatch::ClosedByHost);
            self.open_batch += 1;
            self.batches.insert(self.open_batch, HostBatch::Open);
        }
        self.sessions.clear();
        self.business_date = "2026-11-29".into();
    }

    /// R22: the merchant signs every session off from the console; nothing else changes.
    pub fn console_sign_off(&mut self) {
        self.remote_off.extend(self.sessions.drain());
    }

    /// Books a sale the terminal never heard of, to make a batch unbalanced.
    pub fn inject_sale(&mut self, amount: i64) {
        self.rrn += 1;
        self.txs.push(HostTx {
            request_id: format!("11111111-0000-4000-8000-{:012}", self.rrn),
            batch_no: self.open_batch,
            kind: TxKind::Sale,
            trace_no: 900_000 + self.rrn as u32,
            amount,
            status: LineStatus::Approved,
            rrn: format!("{:012}", self.rrn),
            voided: false,
            refunded: 0,
            original: None,
            masked_pan: Some("621234******1232".into()),
            auth_code: "A1B2C3".into(),
            released: false,
            completed: false,
            expired: false,
        });
    }

    /// R8, dependents: an approved sale with an approved void or refund is not reversed;
    /// its answer stands.
    fn standing(&self, i: usize) -> Option<TransactionResponse> {
        let t = &self.txs[i];
        let has_dependents = t.status == LineStatus::Approved
            && match t.kind {
                TxKind::Sale => t.voided || t.refunded > 0,
                TxKind::Completion => t.voided,
                TxKind::Preauth => t.released || t.completed,
                _ => false,
            };
        match self.answers.get(&t.request_id) {
            Some(Reply::Transaction(answer)) if has_dependents => Some(answer.clone()),
            _ => None,
        }
    }

    /// Another terminal of the merchant refunds the sale with this request id by its RRN; the
    /// refund counts in that terminal's batch (here batch 0), not in this one's.
    pub fn refund_elsewhere(&mut self, sale_request_id: &str, amount: i64) {
        let Some(sale) = self
            .txs
            .iter_mut()
            .find(|t| t.request_id == sale_request_id && t.kind == TxKind::Sale)
        else {
            panic!("no sale {sale_request_id}");
        };
        assert!(sale.refunded + amount <= sale.amount && !sale.voided);
        sale.refunded += amount;
        let original = Some(OriginalRef::Rrn {
            rrn: sale.rrn.clone(),
        });
        let masked_pan = sale.masked_pan.clone();
        self.rrn += 1;
        self.txs.push(HostTx {
            request_id: format!("22222222-0000-4000-8000-{:012}", self.rrn),
            batch_no: 0,
            kind: TxKind::Refund,
            trace_no: 1,
            amount,
            status: LineStatus::Approved,
            rrn: format!("{:012}", self.rrn),
            voided: false,
            refunded: 0,
            original,
            masked_pan,
            auth_code: "A1B2C3".into(),
            released: false,
            completed: false,
            expired: false,
        });
    }

    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }

    /// The refusal for a call without a live session, if any.
    fn session_refusal(&self, auth: &Auth) -> Option<Reply> {
        match auth {
            Auth::Session(t) if self.sessions.contains(t) => None,
            Auth::Session(t) if self.remote_off.contains(t) => {
                Some(refuse(ErrorCode::SignedOffRemotely))
            }
            Auth::Session(_) => Some(refuse(ErrorCode::SessionExpired)),
            _ => Some(refuse(ErrorCode::NotSignedIn)),
        }
    }

    /// A new session for `operator`, as the host's sign-in answers it.
    fn signed_in(&mut self, operator: &str) -> Reply {
        self.tokens += 1;
        let token = format!("token-{}", self.tokens);
        self.sessions.insert(token.clone());
        let closed_batches = self
            .batches
            .iter()
            .filter(|(_, s)| **s == HostBatch::ClosedByHost)
            .map(|(b, _)| ClosedBatch {
                batch_no: bn(*b),
                business_date: "2026-11-28".into(),
                host_totals: self.totals(*b),
            })
            .collect();
        Reply::SignedIn(SignInResponse {
            session_token: token,
            expires_at: "2026-11-28T15:00:00Z".into(),
            operator: operator.to_owned(),
            business_date: self.business_date.clone(),
            batch_no: bn(self.open_batch),
            next_trace_no: tn(self.next_trace),
            currency: "CNY".into(),
            closed_batches,
            confirm_above: self.confirm_above,
            timezone: None,
            utc_offset_minutes: self.utc_offset_minutes,
            merchant_name: self.merchant_name.clone(),
        })
    }

    pub fn handle(&mut self, out: &Outgoing) -> Reply {
        self.requests.push(out.call.clone());
        match &out.call {
            Call::Activate(req) => {
                if self.code.as_deref() == Some(req.activation_code.as_str()) {
                    self.code = None;
                    self.key = Some("terminal-key".into());
                    Reply::Activated(ActivateResponse {
                        terminal_key: "terminal-key".into(),
                    })
                } else {
                    refuse(ErrorCode::BadCredentials)
                }
            }
            Call::SignIn(req) => {
                if out.auth != Auth::TerminalKey("terminal-key".into()) || self.key.is_none() {
                    return refuse(ErrorCode::BadCredentials);
                }
                let ok = (req.operator == OPERATOR && req.password == PASSWORD)
                    || (req.operator == "00" && req.password == SUPERVISOR);
                if !ok {
                    return refuse(ErrorCode::BadCredentials);
                }
                self.signed_in(&req.operator)
            }
            // A lane of a checkout terminal: its key alone, and the session's operator "web".
            Call::CheckoutSignIn => {
                if out.auth != Auth::TerminalKey("terminal-key".into()) || self.key.is_none() {
                    return refuse(ErrorCode::BadCredentials);
                }
                self.signed_in("web")
            }
            Call::Transaction(req) => {
                if let Some(r) = self.session_refusal(&out.auth) {
                    return r;
                }
                if let Some(r) = self.answers.get(req.request_id.as_str()) {
                    return r.clone();
                }
                let r = self.transaction(req);
                self.answers.insert(req.request_id.to_string(), r.clone());
                r
            }
            Call::Reversal(req) => {
                if let Some(r) = self.session_refusal(&out.auth) {
                    return r;
                }
                let found = self.txs.iter().position(|t| t.request_id == req.request_id);
                if let Some(stands) = found.and_then(|i| self.standing(i)) {
                    return Reply::Reversal(ReversalResponse {
                        request_id: req.request_id.clone(),
                        reversed: false,
                        transaction: Some(stands),
                    });
                }
                let reversed = match found {
                    Some(i) => {
                        let t = self.txs[i].clone();
                        self.txs[i].status = LineStatus::Reversed;
                        // Undo what the reversed void or refund did to its original.
                        for o in self.txs.iter_mut().filter(|o| o.kind == TxKind::Sale) {
                            match (&t.kind, &t.original) {
                                (TxKind::Void, Some(OriginalRef::Trace { trace_no }))
                                    if o.trace_no == *trace_no && o.batch_no == t.batch_no =>
                                {
                                    o.voided = false
                                }
                                (TxKind::Refund, Some(OriginalRef::Rrn { rrn }))
                                    if &o.rrn == rrn =>
                                {
                                    o.refunded -= t.amount
                                }
                                _ => {}
                            }
                        }
                        self.undo_hold_use(&t);
                        true
                    }
                    None => {
                        self.tombstones.insert(req.request_id.to_string());
                        false
                    }
                };
                Reply::Reversal(ReversalResponse {
                    request_id: req.request_id.clone(),
                    reversed,
                    transaction: None,
                })
            }
            Call::Settlement(req) => {
                if let Some(r) = self.session_refusal(&out.auth) {
                    return r;
                }
                if let Some(r) = self.answers.get(req.request_id.as_str()) {
                    return r.clone();
                }
                let host_totals = self.totals(req.batch_no.get());
                let outcome =
                    softpos::terminal::settlement::outcome(&req.terminal_totals, &host_totals);
                let status = if outcome == Outcome::Balanced {
                    HostBatch::Settled
                } else {
                    HostBatch::AwaitingUpload
                };
                let was = self.batches.insert(req.batch_no.get(), status);
                if was == Some(HostBatch::Open) {
                    self.open_batch = req.batch_no.next().get();
                    self.batches.insert(self.open_batch, HostBatch::Open);
                }
                let r = Reply::Settlement(SettlementResponse {
                    batch_no: req.batch_no,
                    outcome,
                    host_totals,
                    next_batch_no: bn(self.open_batch),
                    acquirer_outcome: self.acquirer,
                });
                self.answers.insert(req.request_id.to_string(), r.clone());
                r
            }
            Call::Upload(batch_no, req) => {
                if let Some(r) = self.session_refusal(&out.auth) {
                    return r;
                }
                if let Some(r) = self.answers.get(req.request_id.as_str()) {
                    return r.clone();
                }
                // R11: a chunk goes on from what is held, or the answer says where to go on.
                let held = self.chunks.entry(req.request_id.to_string()).or_default();
                if req.from.unwrap_or(0) as usize != held.len() {
                    return Reply::UploadProgress(UploadProgress {
                        batch_no: bn(*batch_no),
                        received: held.len() as u32,
                    });
                }
                held.extend(req.entries.iter().cloned());
                if req.more == Some(true) {
                    return Reply::UploadProgress(UploadProgress {
                        batch_no: bn(*batch_no),
                        received: held.len() as u32,
                    });
                }
                let entries = std::mem::take(held);
                let genesis =
                    softpos::terminal::journal::genesis_hash(MERCHANT, TERMINAL, *batch_no);
                if let Err(e) = softpos::terminal::journal::verify_chain(&genesis, &entries) {
                    return Reply::Refused(e);
                }
                let discrepancies = compare(&ledger_lines(&entries), &self.lines(*batch_no));
                self.batches.insert(*batch_no, HostBatch::Settled);
                let r = Reply::Upload(UploadResponse {
                    batch_no: bn(*batch_no),
                    outcome: Outcome::Unbalanced,
                    host_totals: self.totals(*batch_no),
                    discrepancies,
                    next_batch_no: bn(self.open_batch),
                    acquirer_outcome: self.acquirer,
                });
                self.answers.insert(req.request_id.to_string(), r.clone());
                r
            }
            Call::SignOff(_) => {
                if let Some(r) = self.session_refusal(&out.auth) {
                    return r;
                }
                if let Auth::Session(t) = &out.auth {
                    self.sessions.remove(t);
                }
                Reply::SignedOff(SignOffResponse {
                    signed_off_at: "2026-11-28T10:00:00Z".into(),
                })
            }
        }
    }

    /// R20: the hold a pre-auth void or completion names, by RRN and auth code, approved and
    /// not reversed, in any batch.
    fn hold_of(&self, original: &Option<OriginalRef>) -> Option<usize> {
        let Some(OriginalRef::Hold { rrn, auth_code }) = original else {
            return None;
        };
        self.txs.iter().position(|t| {
            t.kind == TxKind::Preauth
                && t.status == LineStatus::Approved
                && &t.rrn == rrn
                && &t.auth_code == auth_code
        })
    }

    /// R20 as the host rules it: releases or completes the hold the request names, or says
    /// why not; the hold's card on success.
    fn use_hold(
        &mut self,
        req: &TransactionRequest,
        verb: HoldUse,
    ) -> Result<Option<String>, ErrorCode> {
        let i = self
            .hold_of(&req.original)
            .ok_or(ErrorCode::PreauthNotFound)?;
        let open = self.open_batch;
        let hold = &mut self.txs[i];
        if hold.released {
            return Err(ErrorCode::PreauthNotFound);
        }
        if hold.completed {
            return Err(ErrorCode::PreauthCompleted);
        }
        if hold.expired {
            return Err(ErrorCode::PreauthExpired);
        }
        match verb {
            // Only a hold of the open batch is released; an older one is completed or lapses.
            HoldUse::Release if hold.batch_no != open => {
                return Err(ErrorCode::VoidNotAllowedSettled)
            }
            HoldUse::Release if req.amount != hold.amount => return Err(ErrorCode::InvalidAmount),
            HoldUse::Release => hold.released = true,
            HoldUse::Complete if req.amount * 100 > hold.amount * 115 => {
                return Err(ErrorCode::InvalidAmount)
            }
            HoldUse::Complete => hold.completed = true,
        }
        Ok(hold.masked_pan.clone())
    }

    /// R8: a reversed pre-auth void or completion gives its hold back as it was; a reversed
    /// completion void completes the hold again.
    fn undo_hold_use(&mut self, t: &HostTx) {
        match t.kind {
            TxKind::PreauthVoid | TxKind::Completion => {
                if let Some(h) = self.hold_of(&t.original) {
                    let hold = &mut self.txs[h];
                    if t.kind == TxKind::PreauthVoid {
                        hold.released = false;
                    } else {
                        hold.completed = false;
                    }
                }
            }
            TxKind::CompletionVoid => {
                let Some(OriginalRef::Trace { trace_no }) = t.original else {
                    return;
                };
                let found = self.txs.iter().position(|c| {
                    c.kind == TxKind::Completion
                        && c.batch_no == t.batch_no
                        && c.trace_no == trace_no.get()
                });
                if let Some(c) = found {
                    self.txs[c].voided = false;
                    if let Some(h) = self.hold_of(&self.txs[c].original.clone()) {
                        self.txs[h].completed = true;
                    }
                }
            }
            _ => {}
        }
    }

    /// R20: every hold booked so far is now more than 30 days old.
    pub fn age_holds(&mut self) {
        for t in self.txs.iter_mut().filter(|t| t.kind == TxKind::Preauth) {
            t.expired = true;
        }
    }

    fn transaction(&mut self, req: &TransactionRequest) -> Reply {
        if self.tombstones.contains(req.request_id.as_str()) {
            return refuse(ErrorCode::UnknownTransaction);
        }
        self.rrn += 1;
        let rrn = format!("{:012}", self.rrn);
        let mut status = LineStatus::Approved;
        let mut code = "00";
        let mut original_pan = None;
        match req.kind {
            TxKind::Sale => {
                if req.card.as_ref().map(|c| c.pan.as_str()) == Some(DECLINED_CARD) {
                    status = LineStatus::Declined;
                    code = "05";
                }
            }
            TxKind::Void => {
                if req.supervisor_password.as_ref().map(|p| p.expose()) != Some(SUPERVISOR) {
                    return refuse(ErrorCode::SupervisorRequired);
                }
                let Some(OriginalRef::Trace { trace_no }) = &req.original else {
                    return refuse(ErrorCode::BadRequest);
                };
                let open = self.open_batch;
                let Some(orig) = self.txs.iter_mut().find(|t| {
                    t.batch_no == open && t.trace_no == *trace_no && t.kind == TxKind::Sale
                }) else {
                    return refuse(ErrorCode::UnknownTransaction);
                };
                if orig.voided {
                    return refuse(ErrorCode::AlreadyVoided);
                }
                orig.voided = true;
                original_pan = orig.masked_pan.clone();
            }
            TxKind::Refund => {
                if req.supervisor_password.as_ref().map(|p| p.expose()) != Some(SUPERVISOR) {
                    return refuse(ErrorCode::SupervisorRequired);
                }
                let Some(OriginalRef::Rrn { rrn }) = &req.original else {
                    return refuse(ErrorCode::BadRequest);
                };
                let Some(orig) = self
                    .txs
                    .iter_mut()
                    .find(|t| &t.rrn == rrn && t.kind == TxKind::Sale)
                else {
                    return refuse(ErrorCode::UnknownTransaction);
                };
                if orig.voided {
                    return refuse(ErrorCode::AlreadyVoided);
                }
                if orig.refunded + req.amount > orig.amount {
                    return refuse(ErrorCode::RefundExceedsOriginal);
                }
                orig.refunded += req.amount;
                original_pan = orig.masked_pan.clone();
            }
            TxKind::Preauth => {
                if req.card.as_ref().map(|c| c.pan.as_str()) == Some(DECLINED_CARD) {
                    status = LineStatus::Declined;
                    code = "05";
                }
            }
            TxKind::PreauthVoid | TxKind::Completion => {
                let (verb, password) = match req.kind {
                    TxKind::PreauthVoid => (HoldUse::Release, req.supervisor_password.as_ref()),
                    _ => (HoldUse::Complete, None),
                };
                if verb == HoldUse::Release && password.map(|p| p.expose()) != Some(SUPERVISOR) {
                    return refuse(ErrorCode::SupervisorRequired);
                }
                match self.use_hold(req, verb) {
                    Ok(pan) => original_pan = pan,
                    Err(e) => return refuse(e),
                }
            }
            TxKind::CompletionVoid => {
                if req.supervisor_password.as_ref().map(|p| p.expose()) != Some(SUPERVISOR) {
                    return refuse(ErrorCode::SupervisorRequired);
                }
                let Some(OriginalRef::Trace { trace_no }) = &req.original else {
                    return refuse(ErrorCode::BadRequest);
                };
                let open = self.open_batch;
                let Some(i) = self.txs.iter().position(|t| {
                    t.batch_no == open
                        && t.trace_no == *trace_no
                        && t.kind == TxKind::Completion
                        && t.status == LineStatus::Approved
                }) else {
                    return refuse(ErrorCode::UnknownTransaction);
                };
                if self.txs[i].voided {
                    return refuse(ErrorCode::AlreadyVoided);
                }
                self.txs[i].voided = true;
                original_pan = self.txs[i].masked_pan.clone();
                if let Some(h) = self.hold_of(&self.txs[i].original.clone()) {
                    self.txs[h].completed = false;
                }
            }
        }
        self.next_trace = req.trace_no.next().get();
        let masked_pan = match &req.card {
            Some(c) => Some(softpos::terminal::card::mask_digits(&c.pan)),
            None => original_pan,
        };
        self.txs.push(HostTx {
            request_id: req.request_id.to_string(),
            batch_no: self.open_batch,
            kind: req.kind,
            trace_no: req.trace_no.get(),
            amount: req.amount,
            status,
            rrn: rrn.clone(),
            voided: false,
            refunded: 0,
            original: req.original.clone(),
            masked_pan: masked_pan.clone(),
            auth_code: format!("A{:05}", self.rrn % 100_000),
            released: false,
            completed: false,
            expired: false,
        });
        let approved = status == LineStatus::Approved;
        let auth_code = approved.then(|| format!("A{:05}", self.rrn % 100_000));
        Reply::Transaction(TransactionResponse {
            request_id: req.request_id.clone(),
            status: if approved {
                TxStatus::Approved
            } else {
                TxStatus::Declined
            },
            response_code: code.into(),
            message: if approved {
                "Approved"
            } else {
                "Do not honour"
            }
            .into(),
            rrn: Some(rrn),
            auth_code,
            batch_no: bn(self.open_batch),
            trace_no: req.trace_no,
            masked_pan,
            host_time: "2026-11-28T02:00:00Z".into(),
            reference: req.reference.clone(),
        })
    }
}

/// What the driver persisted: the meta record and the journal entries, as IndexedDB would.
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub meta: Option<Meta>,
    pub entries: Vec<JournalEntry>,
    /// How many entries each append wrote (R18: one, never the whole journal).
    pub entry_writes: usize,
}

impl Store {
    pub fn apply(&mut self, writes: Vec<Write>) {
        for w in writes {
            match w {
                Write::Meta(m) => self.meta = Some(*m),
                Write::Append { entry, .. } => {
                    self.entry_writes += 1;
                    self.entries.push(*entry)
                }
                Write::ClearJournal { batch_no } => {
                    let _ = batch_no;
                    self.entries.clear()
                }
            }
        }
    }

    pub fn snapshot(&self) -> Option<Snapshot> {
        Some(Snapshot {
            meta: self.meta.clone()?,
            entries: self.entries.clone(),
        })
    }
}

/// A terminal, its persisted store, a host and a clock.
pub struct Bench {
    pub terminal: Terminal,
    pub host: ModelHost,
    pub store: Store,
    pub now: Timestamp,
    pub faults: VecDeque<Option<Fault>>,
    ids: u64,
    pub sent: usize,
}

pub fn config() -> Config {
    Config::new(MERCHANT, TERMINAL)
}

impl Bench {
    pub fn new() -> Bench {
        Bench::with_config(config())
    }

    pub fn with_config(config: Config) -> Bench {
        let terminal = Terminal::new(config, T0).expect("valid config");
        Bench {
            terminal,
            host: ModelHost::default(),
            store: Store::default(),
            now: T0,
            faults: VecDeque::new(),
            ids: 0,
            sent: 0,
        }
    }

    /// Activated and signed in as operator 01.
    pub fn signed_in() -> Bench {
        let mut b = Bench::new();
        b.run(Command::Activate { code: CODE.into() })
            .expect("activate");
        b.sign_in().expect("sign in");
        b
    }

    pub fn sign_in(&mut self) -> Result<Completion, Error> {
        self.run(Command::SignIn {
            operator: OPERATOR.into(),
            password: PASSWORD.into(),
        })
    }

    pub fn sale(&mut self, amount: i64) -> Result<Completion, Error> {
        self.run(Command::Sale {
            amount,
            pan: CARD.into(),
            expiry: EXPIRY.into(),
            reference: None,
        })
    }

    /// Begins a sale of `amount` whose request reaches the host and whose answer the page never
    /// reads: the page dies first (R18), so the terminal is left with the sale in flight.
    pub fn sale_sent_then_page_died(&mut self, amount: i64) {
        self.terminal
            .begin(
                Command::Sale {
                    amount,
                    pan: CARD.into(),
                    expiry: EXPIRY.into(),
                    reference: None,
                },
                self.now,
            )
            .unwrap();
        let mut n = 0;
        let step = self.terminal.step(self.now, &mut || {
            n += 1;
            softpos::ids::RequestId::parse(&format!("00000000-0000-4000-9000-{n:012x}")).unwrap()
        });
        self.store.apply(self.terminal.take_writes());
        let softpos::terminal::Step::Send(out) = step else {
            panic!("expected a request")
        };
        self.host.handle(&out);
    }

    /// Fails the next requests as listed (`None` = delivered normally).
    pub fn fault(&mut self, faults: &[Option<Fault>]) {
        self.faults.extend(faults.iter().copied());
    }

    /// Runs one operation to its end, as the wasm driver does.
    pub fn run(&mut self, command: Command) -> Result<Completion, Error> {
        self.terminal.begin(command, self.now)?;
        self.drive()
    }

    /// Runs the operation in flight to its end.
    pub fn drive(&mut self) -> Result<Completion, Error> {
        self.drive_with(usize::MAX, |b, out| {
            b.check_written_ahead(out);
            b.sent += 1;
            match b.faults.pop_front().flatten() {
                Some(Fault::Unreachable) => Reply::NoAnswer,
                Some(Fault::LoseAnswer) => {
                    b.host.handle(out);
                    Reply::NoAnswer
                }
                None => b.host.handle(out),
            }
        })
    }

    /// Drives the operation in flight as [`Bench::drive`] does, but every request goes
    /// through `answer`, which may pass it to the model host (`host.handle(out)`), change that
    /// answer, or make one up. Fails the test if the operation is still sending after `max`
    /// requests (a loop).
    pub fn drive_scripted(
        &mut self,
        max: usize,
        mut answer: impl FnMut(&Outgoing, &mut ModelHost) -> Reply,
    ) -> Result<Completion, Error> {
        self.drive_with(max, |b, out| answer(out, &mut b.host))
    }

    /// The driver loop both share: steps the core, persists its writes, and feeds it the
    /// answer `answer` gives to each request, at most `max` requests.
    fn drive_with(
        &mut self,
        max: usize,
        mut answer: impl FnMut(&mut Bench, &Outgoing) -> Reply,
    ) -> Result<Completion, Error> {
        for _ in 0..=max {
            let mut ids = self.ids;
            let step = self.terminal.step(self.now, &mut || {
                ids += 1;
                softpos::ids::RequestId::parse(&format!("00000000-0000-4000-8000-{ids:012x}"))
                    .expect("a UUID")
            });
            self.ids = ids;
            self.store.apply(self.terminal.take_writes());
            match step {
                Step::Send(out) => {
                    self.now = Timestamp(self.now.0 + 1000);
                    let reply = answer(self, &out);
                    self.terminal.handle_reply(reply, self.now);
                }
                Step::Done(result) => {
                    self.store.apply(self.terminal.take_writes());
                    return result;
                }
                Step::Idle => panic!("drive() with nothing in flight"),
            }
        }
        panic!("the operation was still sending after {max} requests");
    }

    /// R18: whatever a request is about, its record is in the store before it leaves.
    fn check_written_ahead(&self, out: &Outgoing) {
        let meta = self.store.meta.as_ref();
        match &out.call {
            Call::Transaction(req) => {
                let in_flight = meta.and_then(|m| m.in_flight.as_ref());
                assert_eq!(
                    in_flight.map(|f| f.request_id.as_str()),
                    Some(req.request_id.as_str()),
                    "R18: the transaction must be written ahead"
                );
            }
            Call::Settlement(req) => {
                let s = meta.and_then(|m| m.settlement.as_ref());
                assert_eq!(
                    s.map(|s| s.request_id.as_str()),
                    Some(req.request_id.as_str())
                );
            }
            Call::Upload(_, req) => {
                let s = meta.and_then(|m| m.settlement.as_ref());
                assert_eq!(
                    s.map(|s| s.upload_request_id.as_str()),
                    Some(req.request_id.as_str())
                );
            }
            Call::Reversal(req) => {
                let queued = meta
                    .is_some_and(|m| m.reversals.iter().any(|r| r.request_id == req.request_id));
                assert!(queued, "R8: a reversal is persisted before it is sent");
            }
            _ => {}
        }
    }

    /// A reload: the terminal comes back from what was persisted.
    pub fn reload(&mut self) -> Result<(), Error> {
        let snapshot = self.store.snapshot().expect("something was persisted");
        let json = snapshot.to_json();
        let snapshot = Snapshot::from_json(&json)?;
        self.terminal = Terminal::restore(self.terminal.config().clone(), snapshot, self.now)?;
        self.store.apply(self.terminal.take_writes());
        Ok(())
    }

    /// A reload of the same tab (R14): the terminal comes back from what was persisted and
    /// is handed the session the tab kept, as the wasm driver does; whether it resumed it.
    pub fn reload_tab(&mut self) -> Result<bool, Error> {
        let kept = self.terminal.resumable();
        self.reload()?;
        Ok(match kept {
            Some(session) => self.terminal.resume(session, self.now),
            None => false,
        })
    }

    pub fn requests_sent(&self) -> usize {
        self.host.requests.len()
    }
}

pub fn tx(c: Completion) -> softpos::terminal::TxResult {
    match c {
        Completion::Transaction(t) => t,
        other => panic!("expected a transaction, got {other:?}"),
    }
}

pub fn settled(c: Completion) -> softpos::terminal::SettlementResult {
    match c {
        Completion::Settled(s) => s,
        other => panic!("expected a settlement, got {other:?}"),
    }
}
