//! One tab per terminal (R18): two tabs appending to one journal would fork its hash chain and
//! reuse trace numbers, so a second `Terminal.open` on browser storage is refused with `BUSY`
//! instead of waiting (a tab that waited could sit unnoticed behind a forgotten one).
//!
//! Where the page has Web Locks, an exclusive lock held for the terminal's lifetime; the
//! browser drops it when the tab closes, reloads or crashes. A page that is not a secure
//! context has none, so there a lease in IndexedDB stands in (docs/browser.md): a record
//! naming the page that holds the terminal until a time, renewed while the page is open and
//! given up when it goes. A page that finds the terminal held asks the holder on a
//! `BroadcastChannel`; only an open page answers, so a page reloaded, closed or crashed does
//! not keep the terminal, and a lease left unrenewed runs out anyway. Every write of the
//! holder checks, in its own transaction, that the lease is still its own: a page that lost
//! it (frozen while another took the terminal) writes nothing more.

use super::js::field;
use super::scope::{self, Timeout};
use super::storage::{committed, META};
use crate::error::{Error, ErrorCode};
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{
    BroadcastChannel, EventTarget, IdbDatabase, IdbKeyRange, IdbObjectStore, IdbTransaction,
    IdbTransactionMode, MessageEvent,
};

/// How long a lease lasts unrenewed. Longer than a minute: a hidden tab's timers may fire
/// only once a minute (Chromium's intensive throttling), and it must keep its terminal.
const LEASE_MS: f64 = 90_000.0;
/// How often the holder renews it.
const RENEW_MS: i64 = 20_000;
/// Where the pages of an origin ask whether a lease's holder is still there: a closed page's
/// lease is not always given up (a closing page may not get its last write committed).
const CHANNEL: &str = "softpos:tab";
/// How long a page that finds the terminal held waits for the holder to answer.
const ASK_MS: i64 = 300;

fn busy() -> Error {
    Error::with_detail(
        ErrorCode::Busy,
        "this terminal is open in another tab or window; close it there first",
    )
}

/// What keeps a second tab off a terminal, for as long as it lives.
pub enum Guard {
    /// An exclusive Web Lock, held until dropped.
    Lock { _held: TabLock },
    /// An IndexedDB lease, where there are no Web Locks.
    Lease(Lease),
}

impl Guard {
    /// Takes a merchant's terminal for this page, or `BUSY` when another tab has it.
    pub async fn acquire(merchant: &str, terminal: &str, db: &IdbDatabase) -> Result<Guard, Error> {
        match TabLock::acquire(&format!("softpos:{merchant}/{terminal}")).await? {
            Some(lock) => Ok(Guard::Lock { _held: lock }),
            // Beside the terminal's state record (`merchant/terminal`) in the same store.
            None => Lease::acquire(db, format!("lease:{merchant}/{terminal}/"))
                .await
                .map(Guard::Lease),
        }
    }

    /// The check each write makes, when the guard is a lease.
    pub fn fence(&self) -> Option<Fence> {
        match self {
            Guard::Lock { .. } => None,
            Guard::Lease(l) => Some(l.fence.clone()),
        }
    }
}

/// An exclusive Web Lock (`navigator.locks`), released on drop.
pub struct TabLock {
    release: Function,
}

impl Drop for TabLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

impl TabLock {
    /// `Ok(None)` where there are no Web Locks; `BUSY` when another tab holds the terminal.
    async fn acquire(name: &str) -> Result<Option<TabLock>, Error> {
        let locks = field(&scope::global().navigator(), "locks");
        let request = field(&locks, "request");
        let Some(request) = request.dyn_ref::<Function>() else {
            return Ok(None);
        };
        // `held` stays pending until `release` is called: the lock lives as long as it does.
        let mut release = None;
        let held = Promise::new(&mut |resolve, _| release = Some(resolve));
        let mut granted = None;
        let answer = Promise::new(&mut |resolve, _| granted = Some(resolve));
        let (Some(release), Some(granted)) = (release, granted) else {
            return Ok(None);
        };
        let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
            // `lock` is null when `ifAvailable` found the lock taken.
            let _ = granted.call1(&JsValue::UNDEFINED, &(!lock.is_null()).into());
            if lock.is_null() {
                JsValue::UNDEFINED
            } else {
                held.into()
            }
        });
        let options = Object::new();
        let _ = Reflect::set(&options, &"ifAvailable".into(), &true.into());
        request
            .call3(&locks, &name.into(), &options, &callback)
            .map_err(|_| Error::with_detail(ErrorCode::Internal, "navigator.locks failed"))?;
        let got = wasm_bindgen_futures::JsFuture::from(answer)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        if got {
            Ok(Some(TabLock { release }))
        } else {
            Err(busy())
        }
    }
}

/// Who holds a lease: a page, by a random id. Each page writes its own record, `lease:MERCHANT/TERMINAL/PAGE`, so giving it up is one blind delete, which
/// a closing page still gets committed where a read-then-delete would not.
#[derive(Clone)]
pub struct Fence {
    prefix: String,
    page: String,
}

impl Fence {
    fn key(&self) -> JsValue {
        format!("{}{}", self.prefix, self.page).into()
    }

    fn record(&self) -> JsValue {
        let o = Object::new();
        let _ = Reflect::set(&o, &"page".into(), &self.page.as_str().into());
        let now = js_sys::Date::now();
        let _ = Reflect::set(&o, &"until".into(), &(now + LEASE_MS).into());
        o.into()
    }

    /// Every page's lease record of this terminal.
    fn range(&self) -> Result<IdbKeyRange, JsValue> {
        IdbKeyRange::bound(
            &self.prefix.as_str().into(),
            &format!("{}~", self.prefix).into(),
        )
    }

    /// Reads the terminal's lease records in `tx` and calls `then` with the store and them.
    /// Inside the read's own callback, so a write `then` makes is part of the same
    /// transaction: no other tab can come in between.
    fn read(&self, tx: &IdbTransaction, then: OnLeases) -> Result<(), JsValue> {
        let store = tx.object_store(META)?;
        let request = store.get_all_with_key(&self.range()?.into())?;
        let req = request.clone();
        let on_read = Closure::once_into_js(move || {
            let leases = req.result().map(|r| Array::from(&r)).unwrap_or_default();
            then(&store, leases);
        });
        request.set_onsuccess(Some(on_read.unchecked_ref()));
        Ok(())
    }

    fn is_mine(&self, lease: &JsValue) -> bool {
        field(lease, "page").as_string().as_deref() == Some(&self.page)
    }

    /// Takes the lease unless another page holds it: a record of another page that has not
    /// run out and is not of a page known `gone`. The records it overrides are deleted. Once
    /// committed: whether it took it, and else the pages that hold it.
    fn claim(&self, db: &IdbDatabase, gone: Vec<String>) -> Result<Claim, JsValue> {
        let tx = db.transaction_with_str_and_mode(META, IdbTransactionMode::Readwrite)?;
        let got = Rc::new(Cell::new(false));
        let holders = Rc::new(RefCell::new(Vec::new()));
        let (me, flag, held_by) = (self.clone(), got.clone(), holders.clone());
        self.read(
            &tx,
            Box::new(move |store, leases| {
                let now = js_sys::Date::now();
                let mut held_by = held_by.borrow_mut();
                for l in leases.iter() {
                    let page = field(&l, "page").as_string().unwrap_or_default();
                    if page != me.page
                        && field(&l, "until").as_f64().is_some_and(|u| u >= now)
                        && !gone.contains(&page)
                    {
                        held_by.push(page);
                    }
                }
                if !held_by.is_empty() {
                    return;
                }
                let taken = me
                    .range()
                    .and_then(|r| store.delete(&r))
                    .and_then(|_| store.put_with_key(&me.record(), &me.key()));
                flag.set(taken.is_ok());
            }),
        )?;
        Ok(Claim { tx, got, holders })
    }

    /// Aborts `tx`, a write of the terminal's state, unless this page's lease record is still
    /// there (another page that took the terminal deleted it). The flag says it did.
    pub fn check(&self, tx: &IdbTransaction) -> Result<Rc<Cell<bool>>, JsValue> {
        let lost = Rc::new(Cell::new(false));
        let (me, flag, tx2) = (self.clone(), lost.clone(), tx.clone());
        self.read(
            tx,
            Box::new(move |_, leases| {
                if !leases.iter().any(|l| me.is_mine(&l)) {
                    flag.set(true);
                    let _ = tx2.abort();
                }
            }),
        )?;
        Ok(lost)
    }

    /// The refusal of a write the check aborted.
    pub fn lost() -> Error {
        Error::with_detail(
            ErrorCode::Busy,
            "this terminal was opened in another tab or window; use that one",
        )
    }

    /// Gives the lease up.
    fn release(&self, db: &IdbDatabase) {
        if let Ok(tx) = db.transaction_with_str_and_mode(META, IdbTransactionMode::Readwrite) {
            let _ = tx.object_store(META).and_then(|s| s.delete(&self.key()));
        }
    }
}

/// What to do with a terminal's lease records once read (boxed: one callback type, one copy
/// of its glue in the module).
type OnLeases = Box<dyn FnOnce(&IdbObjectStore, Array)>;

/// A claim on its way: its transaction, whether it took the lease, who holds it else.
struct Claim {
    tx: IdbTransaction,
    got: Rc<Cell<bool>>,
    holders: Rc<RefCell<Vec<String>>>,
}

impl Claim {
    async fn outcome(self) -> Result<Result<(), Vec<String>>, JsValue> {
        committed(&self.tx).await?;
        Ok(if self.got.get() {
            Ok(())
        } else {
            Err(self.holders.take())
        })
    }
}

/// Whether any of `pages` answers on the channel within [`ASK_MS`]: a page that holds a lease
/// answers for it while it is open.
async fn any_answers(pages: &[String]) -> bool {
    let Ok(channel) = BroadcastChannel::new(CHANNEL) else {
        // No way to ask: the holder may be there.
        return true;
    };
    let answered = Rc::new(Cell::new(false));
    let (flag, asked) = (answered.clone(), pages.to_vec());
    let on_answer = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let said = e.data().as_string().unwrap_or_default();
        if let Some(page) = said.strip_prefix("alive:") {
            flag.set(flag.get() || asked.iter().any(|p| p == page));
        }
    });
    channel.set_onmessage(Some(on_answer.as_ref().unchecked_ref()));
    for page in pages {
        let _ = channel.post_message(&format!("ask:{page}").into());
    }
    // Wait the holder's time to answer, on the scope's clock.
    let mut wake = None;
    let waited = Promise::new(&mut |resolve, _| wake = Some(resolve));
    let _timeout = wake.and_then(|w| {
        Timeout::new(ASK_MS, move || {
            let _ = w.call0(&JsValue::UNDEFINED);
        })
    });
    let _ = wasm_bindgen_futures::JsFuture::from(waited).await;
    channel.close();
    answered.get()
}

/// A lease on a terminal in IndexedDB, renewed while it lives and given up on drop or when
/// the page goes away.
pub struct Lease {
    fence: Fence,
    db: IdbDatabase,
    _renewal: Renewal,
    on_pagehide: Closure<dyn FnMut()>,
    /// Where this page answers for its lease.
    answering: Option<BroadcastChannel>,
    _on_ask: Closure<dyn FnMut(MessageEvent)>,
}

impl Lease {
    async fn acquire(db: &IdbDatabase, prefix: String) -> Result<Lease, Error> {
        let fence = Fence {
            prefix,
            page: scope::new_uuid().into(),
        };
        take(&fence, db).await?;
        let answering = BroadcastChannel::new(CHANNEL).ok();
        let on_ask = answer_for(&fence.page, answering.clone());
        if let Some(c) = &answering {
            c.set_onmessage(Some(on_ask.as_ref().unchecked_ref()));
        }
        let on_pagehide = {
            let (fence, db) = (fence.clone(), db.clone());
            Closure::<dyn FnMut()>::new(move || fence.release(&db))
        };
        let scope: EventTarget = js_sys::global().unchecked_into();
        let _ = scope
            .add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref());
        Ok(Lease {
            _renewal: Renewal::start(fence.clone(), db.clone()),
            fence,
            db: db.clone(),
            on_pagehide,
            answering,
            _on_ask: on_ask,
        })
    }
}

/// Claims the lease for `fence`'s page, or `BUSY` when a page that is still open holds it.
async fn take(fence: &Fence, db: &IdbDatabase) -> Result<(), Error> {
    let failed = |e: JsValue| {
        Error::with_detail(
            ErrorCode::Internal,
            format_args!(
                "browser storage failed to keep the tab lease: {}",
                e.as_string().unwrap_or_default()
            ),
        )
    };
    let Err(holders) = fence
        .claim(db, Vec::new())
        .map_err(failed)?
        .outcome()
        .await
        .map_err(failed)?
    else {
        return Ok(());
    };
    // Held: by a page still open, or by one that closed or crashed without giving it up. Only
    // a page that answers keeps it.
    if any_answers(&holders).await {
        return Err(busy());
    }
    let taken = fence.claim(db, holders).map_err(failed)?.outcome().await;
    if !matches!(taken, Ok(Ok(()))) {
        return Err(busy());
    }
    Ok(())
}

/// The page's answer on the channel to "is `page` still there?".
fn answer_for(page: &str, channel: Option<BroadcastChannel>) -> Closure<dyn FnMut(MessageEvent)> {
    let page = page.to_owned();
    Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if e.data()
            .as_string()
            .as_deref()
            .and_then(|s| s.strip_prefix("ask:"))
            == Some(&page)
        {
            if let Some(c) = &channel {
                let _ = c.post_message(&format!("alive:{page}").into());
            }
        }
    })
}

/// The lease's renewal every [`RENEW_MS`], for as long as it lives: a timeout that re-arms
/// itself. Renewed as a claim: a page that lost its lease does not take it back from the page
/// that has it now, only once that one's has run out.
struct Renewal {
    _armed: Rc<RefCell<Option<Timeout>>>,
}

impl Renewal {
    fn start(fence: Fence, db: IdbDatabase) -> Renewal {
        let slot = Rc::new(RefCell::new(None));
        Renewal::arm(&slot, fence, db);
        Renewal { _armed: slot }
    }

    fn arm(slot: &Rc<RefCell<Option<Timeout>>>, fence: Fence, db: IdbDatabase) {
        let weak = Rc::downgrade(slot);
        let next = Timeout::new(RENEW_MS, move || {
            let _ = fence.claim(&db, Vec::new());
            if let Some(slot) = weak.upgrade() {
                Renewal::arm(&slot, fence.clone(), db.clone());
            }
        });
        *slot.borrow_mut() = next;
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let scope: EventTarget = js_sys::global().unchecked_into();
        let _ = scope.remove_event_listener_with_callback(
            "pagehide",
            self.on_pagehide.as_ref().unchecked_ref(),
        );
        if let Some(c) = &self.answering {
            c.close();
        }
        self.fence.release(&self.db);
    }
}
