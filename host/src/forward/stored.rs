//! A sale, void or refund (or an R20 hold, completion or their voids) as a job keeps it (`upstream_jobs.request`): everything the acquirer
//! is sent again but the card, which is sealed apart (`card`) or not kept at all.

use crate::acquirer::{mmdd, Completion, Original, Request, Sale, Terminal, Undo};
use serde::{Deserialize, Serialize};
use softpos::ids::{BatchNo, TraceNo};
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::money::Amount;
use softpos::terminal::time::Timestamp;

/// The card a sale is rebuilt with when its own was not kept: no data key (the simulator reads
/// no card) or a seal that no longer opens (logged). Passes the Luhn check, belongs to no one.
const NO_CARD: &str = "0000000000000000";
const NO_EXPIRY: &str = "12/99";

#[derive(Debug, Serialize, Deserialize)]
struct StoredTerminal {
    terminal_id: String,
    merchant_id: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredOriginal {
    rrn: Option<String>,
    auth_code: Option<String>,
    batch: u32,
    trace: u32,
    date: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredSale {
    terminal: StoredTerminal,
    trace: u32,
    batch: u32,
    amount: i64,
    currency: String,
    /// For the logs and the people reading the table; the card itself is sealed apart.
    masked_pan: String,
    reference: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredUndo {
    terminal: StoredTerminal,
    trace: u32,
    batch: u32,
    amount: i64,
    currency: String,
    original: StoredOriginal,
    reference: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredCompletion {
    #[serde(flatten)]
    sale: StoredSale,
    hold: StoredOriginal,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Stored {
    Sale(StoredSale),
    Void(StoredUndo),
    Refund(StoredUndo),
    Preauth(StoredSale),
    PreauthVoid(StoredUndo),
    Completion(StoredCompletion),
    CompletionVoid(StoredUndo),
}

fn terminal_of(t: &Terminal) -> StoredTerminal {
    StoredTerminal {
        terminal_id: t.terminal_id.clone(),
        merchant_id: t.merchant_id.clone(),
    }
}

fn original_of(o: &Original) -> StoredOriginal {
    StoredOriginal {
        rrn: o.rrn.clone(),
        auth_code: o.auth_code.clone(),
        batch: o.batch.get(),
        trace: o.trace.get(),
        date: o.date.clone(),
    }
}

fn undo_of(u: &Undo) -> StoredUndo {
    StoredUndo {
        terminal: terminal_of(&u.terminal),
        trace: u.trace.get(),
        batch: u.batch.get(),
        amount: u.amount.get(),
        currency: u.currency.clone(),
        original: original_of(&u.original),
        reference: u.reference,
    }
}

fn sale_of(s: &Sale) -> StoredSale {
    StoredSale {
        terminal: terminal_of(&s.terminal),
        trace: s.trace.get(),
        batch: s.batch.get(),
        amount: s.amount.get(),
        currency: s.currency.clone(),
        masked_pan: s.pan.masked(),
        reference: s.reference,
    }
}

/// The message as kept (JSON) and, for a sale, its card as `PAN=MM/YY` to be sealed; `None`
/// for a message no job is made of.
pub(super) fn keep(request: &Request) -> Option<(String, Option<String>)> {
    let stored = match request {
        Request::Sale(s) => Stored::Sale(sale_of(s)),
        Request::Preauth(s) => Stored::Preauth(sale_of(s)),
        Request::Completion(c) => Stored::Completion(StoredCompletion {
            sale: sale_of(&c.sale),
            hold: original_of(&c.hold),
        }),
        Request::Void(u) => Stored::Void(undo_of(u)),
        Request::Refund(u) => Stored::Refund(undo_of(u)),
        Request::PreauthVoid(u) => Stored::PreauthVoid(undo_of(u)),
        Request::CompletionVoid(u) => Stored::CompletionVoid(undo_of(u)),
        _ => return None,
    };
    let card = request
        .with_card()
        .map(|s| format!("{}={}", s.pan.digits(), s.expiry.to_mm_yy()));
    Some((serde_json::to_string(&stored).ok()?, card))
}

fn bad(what: &str) -> String {
    format!("a stored upstream message has a bad {what}")
}

fn terminal(t: StoredTerminal) -> Terminal {
    Terminal {
        terminal_id: t.terminal_id,
        merchant_id: t.merchant_id,
    }
}

fn original(o: StoredOriginal) -> Result<Original, String> {
    Ok(Original {
        rrn: o.rrn,
        auth_code: o.auth_code,
        batch: BatchNo::try_from(o.batch).map_err(|_| bad("batch number"))?,
        trace: TraceNo::try_from(o.trace).map_err(|_| bad("trace number"))?,
        // Kept `YYYY-MM-DD` before the acquirer's settlement date was kept.
        date: mmdd(&o.date),
    })
}

fn undo(u: StoredUndo) -> Result<Undo, String> {
    Ok(Undo {
        terminal: terminal(u.terminal),
        trace: TraceNo::try_from(u.trace).map_err(|_| bad("trace number"))?,
        batch: BatchNo::try_from(u.batch).map_err(|_| bad("batch number"))?,
        amount: Amount::new(u.amount).map_err(|_| bad("amount"))?,
        currency: u.currency,
        original: original(u.original)?,
        reference: u.reference,
    })
}

fn sale(s: StoredSale, plain_card: Option<&str>) -> Result<Sale, String> {
    let (pan, expiry) = card(plain_card)?;
    Ok(Sale {
        terminal: terminal(s.terminal),
        trace: TraceNo::try_from(s.trace).map_err(|_| bad("trace number"))?,
        batch: BatchNo::try_from(s.batch).map_err(|_| bad("batch number"))?,
        amount: Amount::new(s.amount).map_err(|_| bad("amount"))?,
        currency: s.currency,
        pan,
        expiry,
        reference: s.reference,
    })
}

/// The card of a sale, from `PAN=MM/YY`. The expiry is read as of 1970: a card may well have
/// expired since the sale it is reversed for.
fn card(plain: Option<&str>) -> Result<(Pan, Expiry), String> {
    let (pan, expiry) = plain
        .and_then(|p| p.split_once('='))
        .unwrap_or((NO_CARD, NO_EXPIRY));
    Ok((
        Pan::parse(pan).map_err(|_| bad("card"))?,
        Expiry::parse(expiry, Timestamp(0)).map_err(|_| bad("expiry"))?,
    ))
}

/// The message again, from what [`keep`] kept and the card opened (`None`: not kept).
pub(super) fn rebuild(json: &str, plain_card: Option<&str>) -> Result<Request, String> {
    let stored: Stored = serde_json::from_str(json).map_err(|e| bad(&e.to_string()))?;
    Ok(match stored {
        Stored::Sale(s) => Request::Sale(sale(s, plain_card)?),
        Stored::Preauth(s) => Request::Preauth(sale(s, plain_card)?),
        Stored::Completion(c) => Request::Completion(Completion {
            sale: sale(c.sale, plain_card)?,
            hold: original(c.hold)?,
        }),
        Stored::Void(u) => Request::Void(undo(u)?),
        Stored::Refund(u) => Request::Refund(undo(u)?),
        Stored::PreauthVoid(u) => Request::PreauthVoid(undo(u)?),
        Stored::CompletionVoid(u) => Request::CompletionVoid(undo(u)?),
    })
}
