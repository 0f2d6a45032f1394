//! Browser persistence (R18): IndexedDB, or page memory for tests.
//!
//! Two object stores, keyed by merchant and terminal: `meta` holds the terminal's small state
//! record, `journal` one record per entry (key `merchant/terminal/batch/seq`), so appending
//! writes one entry whatever the batch size. Each step's writes go in one IndexedDB
//! transaction, and the request leaves only once it has committed.

use super::tab_lock::Fence;
use crate::error::{Error, ErrorCode};
use crate::protocol::JournalEntry;
use crate::terminal::{Meta, Snapshot, Write};
use crate::wasm::codec::{FromJs, ToJs};
use js_sys::{Array, Promise};
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbKeyRange, IdbRequest, IdbTransaction, IdbTransactionMode};

const DB_NAME: &str = "softpos";
const DB_VERSION: u32 = 1;
pub(super) const META: &str = "meta";
const JOURNAL: &str = "journal";

thread_local! {
    /// `storage: "memory"`: one map per page, so a second `Terminal.open` in the same page
    /// sees what the first wrote, as after a reload.
    static MEMORY: RefCell<HashMap<String, JsValue>> = RefCell::new(HashMap::new());
}

/// Where a terminal keeps its state.
pub enum Storage {
    /// IndexedDB: survives a reload. With a fence, each write first checks that this page
    /// still holds the terminal's tab lease (src/wasm/tab_lock.rs).
    Browser(IdbDatabase, Option<Fence>),
    /// Page memory: gone with the page.
    Memory,
}

fn storage_error(what: &str) -> impl Fn(JsValue) -> Error + '_ {
    move |e| {
        let detail = e
            .as_string()
            .or_else(|| {
                js_sys::Reflect::get(&e, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
            })
            .unwrap_or_default();
        Error::with_detail(
            ErrorCode::Internal,
            format_args!("browser storage failed to {what}: {detail}"),
        )
    }
}

fn meta_key(merchant: &str, terminal: &str) -> String {
    format!("{merchant}/{terminal}")
}

fn entry_key(merchant: &str, terminal: &str, batch_no: u32, seq: u32) -> String {
    format!("{merchant}/{terminal}/{batch_no:06}/{seq:010}")
}

/// All keys of one batch's entries lie between these two.
fn batch_bounds(merchant: &str, terminal: &str, batch_no: u32) -> (String, String) {
    let prefix = format!("{merchant}/{terminal}/{batch_no:06}/");
    (prefix.clone(), format!("{prefix}~"))
}

/// Resolves when an IndexedDB request succeeds, with its result.
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let req = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &req.result().unwrap_or(JsValue::UNDEFINED));
        });
        let req = request.clone();
        let on_error = Closure::once_into_js(move || {
            let error = req
                .error()
                .ok()
                .flatten()
                .map_or_else(|| JsValue::from_str("request failed"), JsValue::from);
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await
}

/// Resolves when an IndexedDB transaction has committed.
pub(super) async fn committed(tx: &IdbTransaction) -> Result<(), JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        let on_complete = Closure::once_into_js(move || {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let reject2 = reject.clone();
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("transaction failed"));
        });
        let on_abort = Closure::once_into_js(move || {
            let _ = reject2.call1(&JsValue::NULL, &JsValue::from_str("transaction aborted"));
        });
        tx.set_oncomplete(Some(on_complete.unchecked_ref()));
        tx.set_onerror(Some(on_error.unchecked_ref()));
        tx.set_onabort(Some(on_abort.unchecked_ref()));
    });
    JsFuture::from(promise).await.map(|_| ())
}

impl Storage {
    /// Opens the kind of storage asked for.
    pub async fn open(browser: bool) -> Result<Storage, Error> {
        if !browser {
            return Ok(Storage::Memory);
        }
        let unavailable =
            || Error::with_detail(ErrorCode::Internal, "this browser offers no IndexedDB");
        let factory = super::scope::indexed_db().ok_or_else(unavailable)?;
        let open = factory
            .open_with_u32(DB_NAME, DB_VERSION)
            .map_err(storage_error("open"))?;
        let req = open.clone();
        let on_upgrade = Closure::once_into_js(move || {
            if let Ok(db) = req.result().and_then(|r| r.dyn_into::<IdbDatabase>()) {
                let names = db.object_store_names();
                for name in [META, JOURNAL] {
                    if !names.contains(name) {
                        let _ = db.create_object_store(name);
                    }
                }
            }
        });
        open.set_onupgradeneeded(Some(on_upgrade.unchecked_ref()));
        let db = done(&open)
            .await
            .map_err(storage_error("open"))?
            .dyn_into::<IdbDatabase>()
            .map_err(storage_error("open"))?;
        Ok(Storage::Browser(db, None))
    }

    /// The IndexedDB database, for browser storage.
    pub fn db(&self) -> Option<&IdbDatabase> {
        match self {
            Storage::Browser(db, _) => Some(db),
            Storage::Memory => None,
        }
    }

    /// Has every later write check the tab lease first.
    pub fn set_fence(&mut self, fence: Option<Fence>) {
        if let Storage::Browser(_, f) = self {
            *f = fence;
        }
    }

    /// The terminal as last persisted, if it ever was.
    pub async fn load(&self, merchant: &str, terminal: &str) -> Result<Option<Snapshot>, Error> {
        let stored = match self {
            Storage::Memory => read_memory(merchant, terminal),
            Storage::Browser(db, _) => {
                let read = storage_error("read");
                let tx = db
                    .transaction_with_str_sequence(&Array::of2(&META.into(), &JOURNAL.into()))
                    .map_err(&read)?;
                let meta_store = tx.object_store(META).map_err(&read)?;
                let meta = done(
                    &meta_store
                        .get(&meta_key(merchant, terminal).into())
                        .map_err(&read)?,
                )
                .await
                .map_err(&read)?;
                if meta.is_undefined() || meta.is_null() {
                    return Ok(None);
                }
                let batch_no = batch_of(&meta);
                let (lo, hi) = batch_bounds(merchant, terminal, batch_no);
                let range = IdbKeyRange::bound(&lo.into(), &hi.into()).map_err(&read)?;
                let journal = tx.object_store(JOURNAL).map_err(&read)?;
                let all = done(&journal.get_all_with_key(&range).map_err(&read)?)
                    .await
                    .map_err(&read)?;
                let entries = Array::from(&all).iter().collect();
                Some((meta, entries))
            }
        };
        let Some((meta_json, entry_jsons)) = stored else {
            return Ok(None);
        };
        let meta = Meta::from_js(&meta_json).map_err(|e| {
            Error::with_detail(
                ErrorCode::BadRequest,
                format_args!("stored state unreadable: {e}"),
            )
        })?;
        let entries = entry_jsons
            .into_iter()
            .map(|e| JournalEntry::from_js(&e))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::with_detail(
                    ErrorCode::JournalTampered,
                    format_args!("a stored journal entry is unreadable: {e}"),
                )
            })?;
        Ok(Some(Snapshot { meta, entries }))
    }

    /// Persists one step's writes, all or nothing (R18).
    pub async fn apply(
        &self,
        merchant: &str,
        terminal: &str,
        writes: &[Write],
    ) -> Result<(), Error> {
        // With a lease, even a step that writes nothing checks it: a page that lost the
        // terminal sends nothing either.
        if writes.is_empty() && !matches!(self, Storage::Browser(_, Some(_))) {
            return Ok(());
        }
        let ops = ops_of(merchant, terminal, writes);
        match self {
            Storage::Memory => {
                write_memory(ops);
                Ok(())
            }
            Storage::Browser(db, fence) => {
                let write = storage_error("write");
                let tx = db
                    .transaction_with_str_sequence_and_mode(
                        &Array::of2(&META.into(), &JOURNAL.into()),
                        IdbTransactionMode::Readwrite,
                    )
                    .map_err(&write)?;
                let lost = match fence {
                    Some(f) => Some(f.check(&tx).map_err(&write)?),
                    None => None,
                };
                for (store, op) in ops {
                    let store = tx.object_store(store).map_err(&write)?;
                    match op {
                        Op::Put(k, v) => {
                            store.put_with_key(&v, &k.into()).map_err(&write)?;
                        }
                        Op::DeleteRange(lo, hi) => {
                            let range =
                                IdbKeyRange::bound(&lo.into(), &hi.into()).map_err(&write)?;
                            store.delete(&range).map_err(&write)?;
                        }
                    }
                }
                committed(&tx).await.map_err(|e| {
                    if lost.is_some_and(|l| l.get()) {
                        Fence::lost()
                    } else {
                        write(e)
                    }
                })
            }
        }
    }
}

/// A stored state record and its open batch's entries, as plain JS values.
type Stored = (JsValue, Vec<JsValue>);

fn read_memory(merchant: &str, terminal: &str) -> Option<Stored> {
    MEMORY.with(|m| {
        let m = m.borrow();
        let meta = m.get(&format!("{META}:{}", meta_key(merchant, terminal)))?;
        let batch_no = batch_of(meta);
        // A batch's entries are numbered from 1 without gaps: look them up in order (no scan
        // and sort of the whole map).
        let entries = (1..)
            .map_while(|seq| {
                let key = entry_key(merchant, terminal, batch_no, seq);
                m.get(&format!("{JOURNAL}:{key}")).cloned()
            })
            .collect();
        Some((meta.clone(), entries))
    })
}

/// One step's writes as record operations on the two stores. Only the last state record of a
/// step matters; entries are all kept, in order.
fn ops_of(merchant: &str, terminal: &str, writes: &[Write]) -> Vec<(&'static str, Op)> {
    let last_meta = writes.iter().rposition(|w| matches!(w, Write::Meta(_)));
    writes
        .iter()
        .enumerate()
        .filter_map(|(i, w)| match w {
            Write::Meta(m) if Some(i) == last_meta => {
                Some((META, Op::Put(meta_key(merchant, terminal), m.to_js())))
            }
            Write::Meta(_) => None,
            Write::Append { batch_no, entry } => Some((
                JOURNAL,
                Op::Put(
                    entry_key(merchant, terminal, *batch_no, entry.seq),
                    entry.to_js(),
                ),
            )),
            Write::ClearJournal { batch_no } => {
                let (lo, hi) = batch_bounds(merchant, terminal, *batch_no);
                Some((JOURNAL, Op::DeleteRange(lo, hi)))
            }
        })
        .collect()
}

fn write_memory(ops: Vec<(&'static str, Op)>) {
    MEMORY.with(|m| {
        let mut m = m.borrow_mut();
        for (store, op) in ops {
            match op {
                Op::Put(k, v) => {
                    m.insert(format!("{store}:{k}"), v);
                }
                Op::DeleteRange(lo, hi) => {
                    let (lo, hi) = (format!("{store}:{lo}"), format!("{store}:{hi}"));
                    let keys: Vec<String> =
                        in_range(&m, &lo, &hi).map(|(k, _)| k.clone()).collect();
                    for k in keys {
                        m.remove(&k);
                    }
                }
            }
        }
    });
}

/// A record operation of a step's writes.
enum Op {
    Put(String, JsValue),
    DeleteRange(String, String),
}

/// The memory store's records with keys in `lo..hi`. A scan, not a range query: page memory
/// serves tests, and a hash map keeps the module smaller than an ordered one would.
fn in_range<'a>(
    m: &'a HashMap<String, JsValue>,
    lo: &'a str,
    hi: &'a str,
) -> impl Iterator<Item = (&'a String, &'a JsValue)> {
    m.iter()
        .filter(move |(k, _)| k.as_str() >= lo && k.as_str() < hi)
}

/// The open batch named by a stored state record, to find its entries.
fn batch_of(meta: &JsValue) -> u32 {
    js_sys::Reflect::get(meta, &"batch_no".into())
        .ok()
        .and_then(|b| b.as_f64())
        .map_or(0, |b| b as u32)
}
