//! The optional MAC of the acquirer link (field 64, `--acquirer-mac x919`) and the working key
//! it is computed with (docs/architecture.md, "The MAC").
//!
//! - **Working key.** Each approved sign-in (0810) carries in field 62 the PIN key and the MAC
//!   key, each encrypted under the terminal master key (TMK, 3DES ECB) and followed by its check
//!   value: `PIK 16 | PIK check 4 | MAK 16 | MAK check 4` (40 bytes, double-length keys, 60.3
//!   `003`); a 60-byte field adds a track key, which the host does not use. A check value is
//!   the first 4 bytes of the clear key encrypting 8 zero bytes. The host keeps only the MAK,
//!   per terminal, in memory.
//! - **MAC input.** The message from its MTI to just before field 64 (MTI, bitmap with bit 64
//!   set, every field in order): neither the TPDU and header before it nor the length prefix.
//! - **X9.19.** DES-CBC of the input, zero-padded to a multiple of 8, zero IV, under the key's
//!   left half; the last block then decrypted with the right half and encrypted with the left.
//!
//! DES is the RustCrypto `des` crate's; nothing here is a cipher of its own.

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2};
use softpos_iso8583::{Frame, Message, Spec, Value};
use std::fmt;

/// The MAC field.
pub(crate) const MAC_FIELD: u8 = 64;
/// The working keys field of the sign-in answer.
const KEYS_FIELD: u8 = 62;
/// What precedes the MTI in an encoded frame: length prefix, TPDU, header.
const BEFORE_MTI: usize = 2 + 5 + 6;
const BLOCK: usize = 8;
const CHECK: usize = 4;

/// How requests and answers are authenticated (`--acquirer-mac`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum MacMode {
    /// No field 64.
    #[default]
    None,
    /// ANSI X9.19 retail MAC under the working key from the sign-in.
    X919,
}

/// A double-length DES key (the TMK or a MAK): never shown, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct DesKey([u8; 16]);

impl fmt::Debug for DesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DesKey(****)")
    }
}

impl DesKey {
    /// A key of 16 bytes.
    pub fn new(bytes: [u8; 16]) -> DesKey {
        DesKey(bytes)
    }

    /// The key in a file: 32 hex digits, surrounding white space ignored (`--acquirer-tmk-file`).
    /// The error never quotes the file's content.
    pub fn from_file(path: &std::path::Path) -> Result<DesKey, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            format!(
                "cannot read the terminal master key {}: {e}",
                path.display()
            )
        })?;
        hex16(text.trim()).map(DesKey).ok_or_else(|| {
            format!(
                "the terminal master key in {} is not 32 hex digits (a double-length DES key)",
                path.display()
            )
        })
    }

    fn tdes(&self) -> TdesEde2 {
        TdesEde2::new(GenericArray::from_slice(&self.0))
    }

    fn half(&self, right: bool) -> Des {
        let half = if right { &self.0[8..] } else { &self.0[..8] };
        Des::new(GenericArray::from_slice(half))
    }

    /// The first 4 bytes of this key encrypting 8 zero bytes.
    pub fn check_value(&self) -> [u8; 4] {
        let mut block = GenericArray::from([0u8; BLOCK]);
        self.tdes().encrypt_block(&mut block);
        [block[0], block[1], block[2], block[3]]
    }
}

fn hex16(text: &str) -> Option<[u8; 16]> {
    if text.len() != 32 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// The ANSI X9.19 MAC of `data` under `key`.
pub fn x919(key: &DesKey, data: &[u8]) -> [u8; 8] {
    let left = key.half(false);
    let mut chain = GenericArray::from([0u8; BLOCK]);
    for chunk in data.chunks(BLOCK) {
        for (c, d) in chain.iter_mut().zip(chunk) {
            *c ^= d;
        }
        left.encrypt_block(&mut chain);
    }
    if data.is_empty() {
        left.encrypt_block(&mut chain);
    }
    key.half(true).decrypt_block(&mut chain);
    left.encrypt_block(&mut chain);
    chain.into()
}

/// Why the working key of a sign-in answer was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No field 62, or not 40 or 60 bytes.
    Layout(usize),
    /// The MAK's check value does not match: another TMK, or a damaged field.
    CheckValue,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Layout(len) => write!(
                f,
                "field 62 of the sign-in answer is {len} bytes, not the 40 (or 60) of PIK, MAK and check values"
            ),
            KeyError::CheckValue => {
                f.write_str("the MAC key's check value does not match (another master key?)")
            }
        }
    }
}

/// The clear MAK of a sign-in answer, decrypted under `tmk` and checked.
pub fn working_key(tmk: &DesKey, answer: &Message) -> Result<DesKey, KeyError> {
    let keys = answer.bytes(KEYS_FIELD).unwrap_or_default();
    if keys.len() != 40 && keys.len() != 60 {
        return Err(KeyError::Layout(keys.len()));
    }
    let (encrypted, check) = (&keys[20..36], &keys[36..40]);
    let tdes = tmk.tdes();
    let mut clear = [0u8; 16];
    for (out, block) in clear.chunks_mut(BLOCK).zip(encrypted.chunks(BLOCK)) {
        let mut b = GenericArray::clone_from_slice(block);
        tdes.decrypt_block(&mut b);
        out.copy_from_slice(&b);
    }
    let mak = DesKey(clear);
    if mak.check_value() != check {
        return Err(KeyError::CheckValue);
    }
    Ok(mak)
}

/// The bytes the MAC covers: `message` with field 64 (8 zero bytes standing in), encoded, from
/// its MTI to just before field 64. `None` when the message cannot be encoded.
fn mac_input(spec: &Spec, message: &Message) -> Option<Vec<u8>> {
    let mut message = message.clone();
    message
        .fields
        .insert(MAC_FIELD, Value::Bytes(vec![0; BLOCK]));
    let frame = Frame {
        tpdu: [0; 5],
        header: [0; 6],
        message,
    };
    let wire = spec.encode(&frame).ok()?;
    wire.get(BEFORE_MTI..wire.len().checked_sub(BLOCK)?)
        .map(<[u8]>::to_vec)
}

/// `message` with its MAC in field 64; `None` when it cannot be encoded.
pub fn signed(spec: &Spec, key: &DesKey, message: Message) -> Option<Message> {
    let mac = x919(key, &mac_input(spec, &message)?);
    Some(message.with(MAC_FIELD, Value::Bytes(mac.to_vec())))
}

/// Whether `message` carries field 64 and it is the MAC of the rest under `key`.
pub fn verifies(spec: &Spec, key: &DesKey, message: &Message) -> bool {
    let Some(mac) = message.bytes(MAC_FIELD) else {
        return false;
    };
    mac_input(spec, message).is_some_and(|input| x919(key, &input) == mac)
}

#[cfg(test)]
mod tests;
