//! The mapping of the default ISO 8583 profile (docs/architecture.md, "The acquirer link"):
//! each request the host forwards as the message the profile's table gives it, and each answer
//! back as what the host needs of it. Pure: no IO, no clock.

use super::super::{
    AcquirerOutcome, Answer, BatchUpload, Completion, Management, Original, Request,
    ReversalReason, Sale, Settlement, Terminal, Undo,
};
use softpos::ids::BatchNo;
use softpos::protocol::{Totals, TxKind};
use softpos_iso8583::fields::{
    kind, network, operator_text, upload_text, Balance, Field60, Field61, FieldError,
    Settlement as Field48, Totals as Field48Totals, UploadRecord,
};
use softpos_iso8583::{Message, Mti, Value};

/// Processing codes (field 3).
const PURCHASE: &str = "000000";
const CANCEL: &str = "200000";
const PREAUTHORISE: &str = "030000";
/// Manual key entry, no PIN (field 22).
const KEY_ENTRY: &str = "012";
/// Normal presentment (field 25).
const NORMAL: &str = "00";
/// Pre-authorisation and what names a hold (field 25, R20).
const PREAUTH_CONDITION: &str = "06";

/// An MTI of the table, checked when the host is compiled.
const fn must(value: u16) -> Mti {
    match Mti::new(value) {
        Some(m) => m,
        None => panic!("an MTI is four digits"),
    }
}

const AUTHORISATION: Mti = must(100);
const SIGN_IN: Mti = must(800);
const SIGN_OFF_OR_ECHO: Mti = must(820);
const FINANCIAL: Mti = must(200);
const ADVICE: Mti = must(220);
const REVERSAL: Mti = must(400);
const SETTLEMENT: Mti = must(500);
const UPLOAD: Mti = must(320);

fn text(s: impl Into<String>) -> Value {
    Value::text(s)
}

/// ISO 4217 numeric, for field 49: the currencies a terminal can be set up with.
pub(super) fn currency_numeric(alpha: &str) -> Option<&'static str> {
    Some(match alpha {
        "CNY" => "156",
        "HKD" => "344",
        "USD" => "840",
        "EUR" => "978",
        "GBP" => "826",
        "JPY" => "392",
        "KRW" => "410",
        "KWD" => "414",
        _ => return None,
    })
}

/// Fields 41 and 42 and a message of this type.
fn addressed(mti: Mti, terminal: &Terminal) -> Message {
    Message::new(mti)
        .with(41, text(terminal.terminal_id.clone()))
        .with(42, text(terminal.merchant_id.clone()))
}

fn amount(minor: i64) -> Value {
    text(format!("{minor:012}"))
}

fn trace(n: u32) -> Value {
    text(format!("{n:06}"))
}

fn field60(kind: u8, batch: u32, network: Option<u16>) -> Result<Value, FieldError> {
    Ok(text(
        Field60 {
            kind,
            batch,
            network,
        }
        .to_text()?,
    ))
}

/// Why a request cannot be written (a currency the profile has no number for, a field out of
/// range): the host answers it as unknown, which declines it, and logs the reason.
#[derive(Debug)]
pub(super) struct Unwritable(pub(super) String);

impl From<FieldError> for Unwritable {
    fn from(e: FieldError) -> Self {
        Unwritable(e.to_string())
    }
}

fn currency(alpha: &str) -> Result<Value, Unwritable> {
    currency_numeric(alpha)
        .map(text)
        .ok_or_else(|| Unwritable(format!("no ISO 4217 number for {alpha}")))
}

/// The message the profile sends for `request`.
pub(super) fn message(request: &Request) -> Result<Message, Unwritable> {
    Ok(match request {
        Request::SignIn(m) => management(SIGN_IN, m, network::SIGN_IN)?,
        Request::SignOff(m) => management(SIGN_OFF_OR_ECHO, m, network::SIGN_OFF)?,
        Request::Echo(m) => management(SIGN_OFF_OR_ECHO, m, network::ECHO)?,
        Request::Sale(s) => sale(s, FINANCIAL, PURCHASE, kind::SALE, NORMAL)?,
        Request::Preauth(s) => sale(
            s,
            AUTHORISATION,
            PREAUTHORISE,
            kind::PREAUTH,
            PREAUTH_CONDITION,
        )?,
        Request::Completion(c) => completion(c)?,
        Request::Void(u) => undo(u, UndoKind::Void)?,
        Request::Refund(u) => undo(u, UndoKind::Refund)?,
        Request::PreauthVoid(u) => undo(u, UndoKind::PreauthVoid)?,
        Request::CompletionVoid(u) => undo(u, UndoKind::CompletionVoid)?,
        Request::Reversal(r) => {
            let original = message(&r.original)?;
            let reason = match r.reason {
                ReversalReason::NoAnswer => "98",
                ReversalReason::Other => "06",
            };
            reversal(&original, reason)
        }
        Request::Settlement(s) => settlement(s)?,
        Request::BatchUpload(b) => batch_upload(b)?,
    })
}

/// The echo a persistent link sends when idle (0820, 60.3 `301`), on the host's own account.
pub(super) fn echo(trace_no: u32) -> Message {
    Message::new(SIGN_OFF_OR_ECHO)
        .with(11, trace(trace_no))
        .with(41, text("00000000"))
        .with(42, text("000000000000000"))
        .with(60, text("00000000301"))
}

fn management(mti: Mti, m: &Management, code: u16) -> Result<Message, Unwritable> {
    let batch = m.batch.map_or(0, |b| b.get());
    let mut msg = addressed(mti, &m.terminal)
        .with(11, trace(m.trace.get()))
        .with(60, field60(kind::MANAGEMENT, batch, Some(code))?);
    if let Some(op) = &m.operator {
        msg = msg.with(63, text(operator_text(op)?));
    }
    Ok(msg)
}

/// A card-present message: a sale (0200/000000, 25 `00`, 60.1 `22`), a pre-authorisation
/// (0100/030000, 25 `06`, 60.1 `10`) or the card part of a completion.
fn sale(
    s: &Sale,
    mti: Mti,
    processing: &str,
    kind: u8,
    condition: &str,
) -> Result<Message, Unwritable> {
    Ok(addressed(mti, &s.terminal)
        .with(2, text(s.pan.digits()))
        .with(3, text(processing))
        .with(4, amount(s.amount.get()))
        .with(11, trace(s.trace.get()))
        .with(14, text(yymm(&s.expiry.to_mm_yy())))
        .with(22, text(KEY_ENTRY))
        .with(25, text(condition))
        .with(49, currency(&s.currency)?)
        .with(60, field60(kind, s.batch.get(), None)?))
}

/// A completion (0200/000000, 25 `06`, 60.1 `20`): as a sale, plus the hold's auth code (38)
/// and its batch, trace and settlement date (61): the hold may be days old, so 61.3 is sent.
fn completion(c: &Completion) -> Result<Message, Unwritable> {
    let hold = &c.hold;
    let f61 = Field61 {
        batch: hold.batch.get(),
        trace: hold.trace.get(),
        date: Some(hold.date.clone()),
    };
    let mut msg = sale(
        &c.sale,
        FINANCIAL,
        PURCHASE,
        kind::COMPLETION,
        PREAUTH_CONDITION,
    )?
    .with(61, text(f61.to_text()?));
    if let Some(code) = &hold.auth_code {
        msg = msg.with(38, text(code.clone()));
    }
    Ok(msg)
}

/// What an [`Undo`] is, for its row of the profile's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UndoKind {
    Void,
    Refund,
    PreauthVoid,
    CompletionVoid,
}

impl UndoKind {
    /// MTI, 60.1, field 25, and whether 37, 38 and 61.3 of the original go.
    fn row(self) -> (Mti, u8, &'static str, bool, bool, bool) {
        match self {
            UndoKind::Void => (FINANCIAL, kind::VOID, NORMAL, true, true, false),
            UndoKind::Refund => (ADVICE, kind::REFUND, NORMAL, true, false, true),
            UndoKind::PreauthVoid => (
                AUTHORISATION,
                kind::PREAUTH_VOID,
                PREAUTH_CONDITION,
                false,
                true,
                false,
            ),
            UndoKind::CompletionVoid => (
                FINANCIAL,
                kind::COMPLETION_VOID,
                PREAUTH_CONDITION,
                true,
                true,
                false,
            ),
        }
    }
}

/// `MM/YY` → `YYMM` (field 14).
fn yymm(mm_yy: &str) -> String {
    let (mm, yy) = mm_yy.split_once('/').unwrap_or(("00", "00"));
    format!("{yy}{mm}")
}

/// A void (0200/200000, 61.1–61.2), a refund (0220/200000, 61 with the sale's settlement
/// date, no 38), a pre-auth void (0100/200000, 25 `06`, 38 and 61.1–61.2 of the hold, no 37)
/// or a completion void (0200/200000, 25 `06`, 37, 38 and 61.1–61.2 of the completion); the
/// card is not presented again, so no 2 or 14.
fn undo(u: &Undo, what: UndoKind) -> Result<Message, Unwritable> {
    let Original {
        rrn,
        auth_code,
        batch,
        trace: original_trace,
        date,
    } = &u.original;
    let (mti, kind, condition, with_rrn, with_auth, with_date) = what.row();
    let f61 = Field61 {
        batch: batch.get(),
        trace: original_trace.get(),
        date: with_date.then(|| date.clone()),
    };
    let mut msg = addressed(mti, &u.terminal)
        .with(3, text(CANCEL))
        .with(4, amount(u.amount.get()))
        .with(11, trace(u.trace.get()))
        .with(22, text(KEY_ENTRY))
        .with(25, text(condition))
        .with(49, currency(&u.currency)?)
        .with(60, field60(kind, u.batch.get(), None)?)
        .with(61, text(f61.to_text()?));
    if let (Some(rrn), true) = (rrn, with_rrn) {
        msg = msg.with(37, text(rrn.clone()));
    }
    if let (Some(code), true) = (auth_code, with_auth) {
        msg = msg.with(38, text(code.clone()));
    }
    Ok(msg)
}

/// A 0400: the original's card, processing code, amount, trace, expiry, entry mode,
/// condition, currency, 60 and 61, with the reason in 39.
fn reversal(original: &Message, reason: &str) -> Message {
    let mut msg = Message::new(REVERSAL);
    for field in [2, 3, 4, 11, 14, 22, 25, 41, 42, 49, 60, 61] {
        if let Some(v) = original.fields.get(&field) {
            msg = msg.with(field, v.clone());
        }
    }
    msg.with(39, text(reason))
}

fn field48_totals(debit: &Totals, credit: &Totals) -> Result<Field48Totals, Unwritable> {
    let count = |t: &Totals| {
        u16::try_from(t.count)
            .ok()
            .filter(|c| *c <= 999)
            .ok_or_else(|| Unwritable("more than 999 transactions in a batch".into()))
    };
    let minor =
        |t: &Totals| u64::try_from(t.amount).map_err(|_| Unwritable("a negative total".into()));
    Ok(Field48Totals {
        debit_amount: minor(debit)?,
        debit_count: count(debit)?,
        credit_amount: minor(credit)?,
        credit_count: count(credit)?,
    })
}

fn settlement(s: &Settlement) -> Result<Message, Unwritable> {
    let f48 = Field48 {
        totals: field48_totals(&s.debit, &s.credit)?,
        balance: None,
    };
    Ok(addressed(SETTLEMENT, &s.terminal)
        .with(11, trace(s.trace.get()))
        .with(48, text(f48.to_text()?))
        .with(49, currency(&s.currency)?)
        .with(
            60,
            field60(kind::MANAGEMENT, s.batch.get(), Some(network::SETTLEMENT))?,
        )
        .with(63, text(operator_text(&s.operator)?)))
}

fn batch_upload(b: &BatchUpload) -> Result<Message, Unwritable> {
    let records = b
        .records
        .iter()
        .map(|r| {
            Ok(UploadRecord {
                kind: match r.kind {
                    TxKind::Sale => kind::SALE,
                    TxKind::Void => kind::VOID,
                    TxKind::Refund => kind::REFUND,
                    TxKind::Preauth => kind::PREAUTH,
                    TxKind::PreauthVoid => kind::PREAUTH_VOID,
                    TxKind::Completion => kind::COMPLETION,
                    TxKind::CompletionVoid => kind::COMPLETION_VOID,
                },
                trace: r.trace.get(),
                amount: u64::try_from(r.amount)
                    .map_err(|_| Unwritable("a negative amount".into()))?,
                rrn: r.rrn.clone(),
            })
        })
        .collect::<Result<Vec<_>, Unwritable>>()?;
    let code = if b.closing {
        network::UPLOAD_CLOSE
    } else {
        network::SETTLEMENT
    };
    Ok(addressed(UPLOAD, &b.terminal)
        .with(11, trace(b.trace.get()))
        .with(48, text(upload_text(&records)?))
        .with(60, field60(kind::MANAGEMENT, b.batch.get(), Some(code))?))
}

/// What the host needs of the acquirer's answer. `94` (a duplicate) and `98` (the issuer did
/// not answer) leave the outcome unknown, as does an answer without a response code.
pub(super) fn answer(request: &Request, reply: &Message) -> Answer {
    let Some(code) = reply.text(39) else {
        return Answer::Unknown;
    };
    if code == "94" || code == "98" {
        return Answer::Unknown;
    }
    let outcome = match request {
        Request::Settlement(_) => reply
            .text(48)
            .and_then(|t| Field48::parse(t).ok())
            .and_then(|s| s.balance)
            .map(|b| match b {
                Balance::Balanced => AcquirerOutcome::Balanced,
                Balance::Unbalanced => AcquirerOutcome::Unbalanced,
                Balance::Error => AcquirerOutcome::Error,
            }),
        _ => None,
    };
    let owned = |f: u8| reply.text(f).map(str::to_owned);
    // The batch number a sign-in's answer assigns; 0 assigns none.
    let batch = match request {
        Request::SignIn(_) => reply
            .text(60)
            .and_then(|t| Field60::parse(t).ok())
            .and_then(|f| BatchNo::try_from(f.batch).ok()),
        _ => None,
    };
    // A void's, refund's or completion void's answer may echo its original's RRN in 37 (the
    // request carried it): that is the original's reference, not one of its own.
    let rrn = owned(37).filter(|rrn| match request.undo() {
        Some(u) => u.original.rrn.as_deref() != Some(rrn.as_str()),
        None => true,
    });
    Answer::Answered {
        code: code.to_owned(),
        rrn,
        auth_code: owned(38),
        // What a refund's 61.3 repeats: 4 digits, or none.
        settlement_date: owned(15)
            .filter(|d| d.len() == 4 && d.bytes().all(|b| b.is_ascii_digit())),
        batch,
        outcome,
    }
}
