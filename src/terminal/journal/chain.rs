//! R19: the journal's hash chain. Each entry's hash covers its canonical bytes and the hash
//! before it; the first chains to a genesis hash bound to one terminal's batch.

use crate::error::{Error, ErrorCode};
use crate::protocol::{EntryKind, EntryStatus, JournalEntry};
use sha2::{Digest, Sha256};

/// The hash the first entry of a batch chains to: it binds the chain to one terminal's batch,
/// so entries cannot be moved between batches or terminals unnoticed.
pub fn genesis_hash(merchant_id: &str, terminal_id: &str, batch_no: u32) -> String {
    let mut h = Sha256::new();
    h.update(b"softpos-journal-genesis-v1\0");
    put_str(&mut h, merchant_id);
    put_str(&mut h, terminal_id);
    h.update(batch_no.to_be_bytes());
    hex(&h.finalize())
}

/// R19: SHA-256 over the entry's canonical bytes and `prev_hash`. The encoding is
/// length-prefixed and field-ordered, so no two different entries share it.
pub fn entry_hash(e: &JournalEntry) -> String {
    let mut h = Sha256::new();
    h.update(b"softpos-journal-v1\0");
    put_str(&mut h, &e.prev_hash);
    h.update(e.seq.to_be_bytes());
    put_str(&mut h, e.request_id.as_str());
    put_str(&mut h, entry_kind_str(e.kind));
    h.update(e.trace_no.get().to_be_bytes());
    h.update(e.amount.to_be_bytes());
    put_str(&mut h, &e.currency);
    put_str(&mut h, entry_status_str(e.status));
    put_opt(&mut h, e.response_code.as_deref());
    put_opt(&mut h, e.rrn.as_deref());
    put_opt(&mut h, e.auth_code.as_deref());
    put_opt(&mut h, e.masked_pan.as_deref());
    match e.original_trace_no {
        Some(t) => {
            h.update([1]);
            h.update(t.get().to_be_bytes());
        }
        None => h.update([0]),
    }
    put_opt(&mut h, e.original_rrn.as_deref());
    put_str(&mut h, &e.operator);
    put_str(&mut h, &e.at);
    hex(&h.finalize())
}

/// R19: checks that `entries` form one unbroken chain from `genesis`, numbered from 1.
/// The error names the first entry that does not fit.
pub fn verify_chain(genesis: &str, entries: &[JournalEntry]) -> Result<(), Error> {
    verify_links(genesis, 0, entries)
}

/// R19 on a piece of a journal (R11's chunked upload): `entries` are its entries from
/// position `from` on (0-based), the first one chained to `prev`.
pub fn verify_links(prev: &str, from: u32, entries: &[JournalEntry]) -> Result<(), Error> {
    let mut prev = prev;
    let mut seq = from;
    for e in entries {
        seq = seq.saturating_add(1);
        if e.seq != seq || e.prev_hash != prev || entry_hash(e) != e.hash {
            return Err(Error::with_detail(
                ErrorCode::JournalTampered,
                format_args!("the chain breaks at entry {seq}"),
            ));
        }
        prev = &e.hash;
    }
    Ok(())
}

fn put_str(h: &mut Sha256, s: &str) {
    // Lengths beyond u32 cannot occur: entries are bounded by the host's 16 MiB body limit.
    h.update(u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
    h.update(s.as_bytes());
}

fn put_opt(h: &mut Sha256, s: Option<&str>) {
    match s {
        Some(s) => {
            h.update([1]);
            put_str(h, s);
        }
        None => h.update([0]),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

fn entry_kind_str(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Sale => "sale",
        EntryKind::Void => "void",
        EntryKind::Refund => "refund",
        EntryKind::Preauth => "preauth",
        EntryKind::PreauthVoid => "preauth_void",
        EntryKind::Completion => "completion",
        EntryKind::CompletionVoid => "completion_void",
        EntryKind::Reversal => "reversal",
    }
}

fn entry_status_str(s: EntryStatus) -> &'static str {
    match s {
        EntryStatus::Approved => "approved",
        EntryStatus::Declined => "declined",
        EntryStatus::Unknown => "unknown",
        EntryStatus::Reversed => "reversed",
        EntryStatus::Voided => "voided",
    }
}
