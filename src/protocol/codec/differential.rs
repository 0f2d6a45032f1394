//! The browser's reader against serde's, on the same JSON: what the fuzz target
//! `fuzz/fuzz_targets/codec_vs_serde.rs` and its corpus test (`tests/fuzz_corpus.rs`) run.
//!
//! Where both read a value they must read the same one, and the browser must write it as serde
//! does. Where only one of them reads it, the difference must be one the browser is meant to
//! have: it ignores fields it does not know (serde's `deny_unknown_fields` is the host's
//! strictness), it refuses numbers `JSON.parse` cannot carry exactly (beyond 2^53) and serde's
//! array form of a struct, which no host writes.

use super::{Decode, Encode};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value as Json;

type Check = fn(&Json) -> Result<bool, String>;

/// Every type the browser reads, from the host or from its own storage, with its name.
pub const TYPES: [(&str, Check); 11] = [
    (
        "ActivateResponse",
        agree::<crate::protocol::ActivateResponse>,
    ),
    ("SignInResponse", agree::<crate::protocol::SignInResponse>),
    (
        "TransactionResponse",
        agree::<crate::protocol::TransactionResponse>,
    ),
    (
        "ReversalResponse",
        agree::<crate::protocol::ReversalResponse>,
    ),
    (
        "SettlementResponse",
        agree::<crate::protocol::SettlementResponse>,
    ),
    ("UploadResponse", agree::<crate::protocol::UploadResponse>),
    ("SignOffResponse", agree::<crate::protocol::SignOffResponse>),
    ("ErrorBody", agree::<crate::protocol::ErrorBody>),
    ("JournalEntry", agree::<crate::protocol::JournalEntry>),
    ("Meta", agree::<crate::terminal::Meta>),
    ("UploadProgress", agree::<crate::protocol::UploadProgress>),
];

/// `data`: a byte that picks one of [`TYPES`] (`0` the first, as text), then JSON. `Ok(true)`
/// when both read it alike, `Ok(false)` when they differ as meant (input that is not JSON
/// among it: the browser's `JSON.parse` refuses it first), `Err` when they disagree.
pub fn compare(data: &[u8]) -> Result<bool, String> {
    let Some((&pick, text)) = data.split_first() else {
        return Ok(false);
    };
    let Ok(value) = serde_json::from_slice::<Json>(text) else {
        return Ok(false);
    };
    let (name, check) = TYPES[usize::from(pick.wrapping_sub(b'0')) % TYPES.len()];
    check(&value).map_err(|e| format!("{name}: {e}"))
}

fn agree<T>(value: &Json) -> Result<bool, String>
where
    T: Decode + Encode + Serialize + DeserializeOwned + PartialEq,
{
    match (
        T::decode(value),
        serde_json::from_value::<T>(as_parsed(value)),
    ) {
        (Ok(ours), Ok(theirs)) => {
            if ours != theirs {
                return Err("read to different values".into());
            }
            let written = serde_json::to_value(&theirs).map_err(|e| e.to_string())?;
            if ours.encode::<Json>() != written {
                return Err("written as different JSON".into());
            }
            Ok(true)
        }
        (Ok(_), Err(e)) if e.to_string().starts_with("unknown field") => Ok(false),
        (Ok(_), Err(e)) => Err(format!("the browser reads what serde refuses: {e}")),
        (Err(e), Ok(theirs)) => {
            let canonical = serde_json::to_value(&theirs).map_err(|e| e.to_string())?;
            let reads_canonical = T::decode(&canonical).is_ok_and(|v| v == theirs);
            if reads_canonical && (has_unsafe_number(value) || has_array(value)) {
                Ok(false)
            } else {
                Err(format!("the browser refuses what serde reads: {e}"))
            }
        }
        (Err(_), Err(_)) => Ok(false),
    }
}

/// The value as serde would see `JSON.parse`'s: there `1.0` and `1e2` are integers, and a
/// `null` state field the browser reads as absent is absent (the terminal's `utc_offset`).
fn as_parsed(value: &Json) -> Json {
    match value {
        Json::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => {
            match super::Value::as_safe_integer(value) {
                Some(i) => Json::from(i),
                None => value.clone(),
            }
        }
        Json::Array(items) => Json::Array(items.iter().map(as_parsed).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .filter(|(k, v)| !(k.as_str() == "utc_offset" && v.is_null()))
                .map(|(k, v)| (k.clone(), as_parsed(v)))
                .collect(),
        ),
        _ => value.clone(),
    }
}

fn has_unsafe_number(value: &Json) -> bool {
    match value {
        Json::Number(_) => super::Value::as_safe_integer(value).is_none(),
        Json::Array(items) => items.iter().any(has_unsafe_number),
        Json::Object(map) => map.values().any(has_unsafe_number),
        _ => false,
    }
}

fn has_array(value: &Json) -> bool {
    match value {
        Json::Array(_) => true,
        Json::Object(map) => map.values().any(has_array),
        _ => false,
    }
}
