//! A message as values: the MTI, its fields, and the frame around it.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A message type indicator: four digits (`0200`), two BCD bytes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mti(u16);

impl Mti {
    /// The MTI of these four digits read as a number (`Mti::new(200)` is `0200`); `None` above
    /// 9999.
    pub const fn new(value: u16) -> Option<Self> {
        if value > 9999 {
            None
        } else {
            Some(Self(value))
        }
    }

    /// The four digits read as a number.
    pub const fn value(self) -> u16 {
        self.0
    }

    /// The answer's MTI: the function digit goes from request to response (`0200` → `0210`,
    /// `0400` → `0410`). `None` when this MTI is no request (its third digit is odd).
    pub const fn response(self) -> Option<Self> {
        if (self.0 / 10) % 2 == 0 {
            Some(Self(self.0 + 10))
        } else {
            None
        }
    }

    /// The four digits, most significant first.
    pub const fn digits(self) -> [u8; 4] {
        let v = self.0;
        [
            (v / 1000 % 10) as u8,
            (v / 100 % 10) as u8,
            (v / 10 % 10) as u8,
            (v % 10) as u8,
        ]
    }
}

impl fmt::Display for Mti {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// The text is not four digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtiError;

impl fmt::Display for MtiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an MTI is four digits")
    }
}

impl std::error::Error for MtiError {}

impl FromStr for Mti {
    type Err = MtiError;

    fn from_str(s: &str) -> Result<Self, MtiError> {
        if s.len() != 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MtiError);
        }
        s.parse::<u16>().ok().and_then(Self::new).ok_or(MtiError)
    }
}

/// A field's content: text for n, an and ans fields (an n field as its digits, without the pad
/// nibble), bytes for b fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// The text of an n, an or ans field.
    Text(String),
    /// The bytes of a b field.
    Bytes(Vec<u8>),
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<String>) -> Self {
        Self::Text(s.into())
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(s) => Some(s),
            Self::Bytes(_) => None,
        }
    }

    /// The bytes, if these are bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Text(_) => None,
            Self::Bytes(b) => Some(b),
        }
    }
}

/// One ISO 8583 message: its MTI and fields 2..=64 (the bitmap follows from which are present).
/// Its `Display` and `Debug` mask card data, keys and MAC.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// The message type.
    pub mti: Mti,
    /// The fields by number.
    pub fields: BTreeMap<u8, Value>,
}

impl Message {
    /// A message of this type with no fields yet.
    pub fn new(mti: Mti) -> Self {
        Self {
            mti,
            fields: BTreeMap::new(),
        }
    }

    /// This message with one more field (builder style).
    #[must_use]
    pub fn with(mut self, field: u8, value: Value) -> Self {
        self.fields.insert(field, value);
        self
    }

    /// A text field's content, if present and text.
    pub fn text(&self, field: u8) -> Option<&str> {
        self.fields.get(&field).and_then(Value::as_text)
    }

    /// A b field's content, if present and bytes.
    pub fn bytes(&self, field: u8) -> Option<&[u8]> {
        self.fields.get(&field).and_then(Value::as_bytes)
    }
}

/// A whole frame on the wire but its length: TPDU, header, message. Shows masked, as
/// [`Message`] does.
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    /// `60`, destination (2 bytes), source (2 bytes).
    pub tpdu: [u8; 5],
    /// The configured header the acquirer echoes; see [`processing_requirement`].
    pub header: [u8; 6],
    /// The message.
    pub message: Message,
}

/// The answer's TPDU: the request's with destination and source swapped.
pub fn swap_tpdu(tpdu: [u8; 5]) -> [u8; 5] {
    let [id, d1, d2, s1, s2] = tpdu;
    [id, s1, s2, d1, d2]
}

/// The acquirer's "processing requirement": the low nibble of the header's third byte.
/// [`SIGN_IN_AGAIN`] asks the terminal to sign in before its next message.
pub fn processing_requirement(header: &[u8; 6]) -> u8 {
    header[2] & 0x0f
}

/// The processing requirement that means "sign in again".
pub const SIGN_IN_AGAIN: u8 = 3;

/// How many bytes follow a frame's 2-byte big-endian length prefix: read exactly 2, then exactly
/// this many.
pub fn frame_len(prefix: [u8; 2]) -> usize {
    usize::from(u16::from_be_bytes(prefix))
}
