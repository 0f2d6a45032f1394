//! The codec of the terminal's own types: the results the JS API hands out (with their
//! TypeScript) and the state it persists in IndexedDB. Their structs live in src/terminal/;
//! the persisted ones are listed here by hand, field by field, and `tests/codec.rs` holds
//! them to serde's JSON.

use crate::protocol::codec::{codec_enum, codec_struct, Decode, Encode, Unreadable, Value, BAD};
use crate::protocol::shape::{shapes, ts_union, typescript_section};
use crate::protocol::{
    AcquirerVerdict, BatchTotals, Discrepancy, EntryKind, EntryStatus, Outcome, TxKind, TxStatus,
};
use crate::terminal::time::UtcOffset;
use crate::terminal::{
    InFlight, Meta, PendingSettlement, PendingUpload, QueuedReversal, Recovery, RecoveryKind,
    SettledHistory, SettledRange, SettlementResult, SignInResult, SignOffResult, Slip, TxResult,
};

codec_enum!(RecoveryKind { NotSignedOff = "not_signed_off", NotSettled = "not_settled" });
ts_union!(RecoveryKind["not_signed_off", "not_settled"]);
typescript_section!(RecoveryKind);

shapes! {
    TxResult {
        kind: TxKind,
        status: TxStatus,
        response_code: String,
        message: String,
        trace_no: u32,
        batch_no: u32,
        rrn: Option<String>,
        auth_code: Option<String>,
        amount: i64,
        currency: String,
        masked_pan: Option<String>,
        at: String,
        reference: Option<String>,
    }
    SettlementResult {
        batch_no: u32,
        outcome: Outcome,
        terminal_totals: BatchTotals,
        host_totals: BatchTotals,
        discrepancies: Vec<Discrepancy>,
        next_batch_no: u32,
        settled_at: String,
        acquirer_outcome: Option<AcquirerVerdict>,
    }
    SignInResult {
        operator: String,
        business_date: String,
        batch_no: u32,
        currency: String,
        reconciled: Vec<SettlementResult>,
        pending_reversals: usize,
    }
    SignOffResult {
        signed_off_at: String,
        settlement: Option<SettlementResult>,
    }
    Slip {
        merchant_name: Option<String>,
        merchant_id: String,
        terminal_id: String,
        operator: String,
        kind: EntryKind,
        status: EntryStatus,
        response_code: Option<String>,
        masked_pan: Option<String>,
        batch_no: u32,
        trace_no: u32,
        auth_code: Option<String>,
        rrn: Option<String>,
        amount: i64,
        currency: String,
        at: String,
        original_trace_no: Option<u32>,
        original_rrn: Option<String>,
    }
    Recovery {
        kind: RecoveryKind,
        batch_no: u32,
        business_date: Option<String>,
        operator: Option<String>,
        totals: BatchTotals,
        pending_reversals: usize,
    }
}

// Persisted (IndexedDB), never shown: no TypeScript.
codec_struct!(InFlight {
    request_id,
    kind,
    trace_no,
    amount,
    masked_pan,
    original_trace_no,
    original_rrn,
    operator,
});
codec_struct!(QueuedReversal {
    request_id,
    batch_no,
    trace_no,
    amount
});
codec_struct!(PendingUpload {
    host_totals,
    next_batch_no
}; sent);
codec_struct!(PendingSettlement {
    batch_no,
    terminal_totals,
    request_id,
    upload_request_id,
    upload
});
codec_struct!(SettledRange {
    batch_no,
    first_trace,
    last_trace
});
codec_struct!(Meta {
    version,
    merchant_id,
    terminal_id,
    terminal_key,
    currency,
    batch_no,
    business_date,
    next_trace_no,
    operator,
    reversals,
    in_flight,
    settlement,
    reconcile,
    recent_settled,
    last_settlement,
    journal_len,
    utc_offset,
    confirm_above,
    merchant_name,
    history,
});

/// Absent, as in a state record written before the terminal kept it, is empty: serde's
/// default.
impl Decode for SettledHistory {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        if v.is_absent() {
            return Ok(SettledHistory::default());
        }
        Decode::decode(v).map(SettledHistory)
    }
    fn stand_in() -> Self {
        SettledHistory::default()
    }
}
impl Encode for SettledHistory {
    fn encode<V: Value>(&self) -> V {
        self.0.encode()
    }
}

/// Absent, as in a state record written before the terminal kept it, is UTC: serde's default.
impl Decode for UtcOffset {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        match Option::<i32>::decode(v)? {
            None => Ok(UtcOffset::UTC),
            Some(m) => UtcOffset::from_minutes(m).ok_or(BAD),
        }
    }
    fn stand_in() -> Self {
        UtcOffset::UTC
    }
}
impl Encode for UtcOffset {
    fn encode<V: Value>(&self) -> V {
        self.minutes().encode()
    }
}
