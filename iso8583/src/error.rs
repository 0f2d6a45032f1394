//! What can be wrong with a frame read or a message to write, and in which field.

use std::fmt;

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// The field that failed; `None` for the frame around the fields (length, TPDU, header, MTI,
    /// bitmap).
    pub field: Option<u8>,
    /// What is wrong.
    pub reason: DecodeReason,
}

/// What is wrong with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeReason {
    /// The bytes end inside the part named.
    Short {
        /// Bytes the part needs.
        needed: usize,
        /// Bytes that were left.
        left: usize,
    },
    /// The 2-byte length prefix disagrees with the bytes that follow it.
    LengthMismatch {
        /// What the prefix says.
        prefix: usize,
        /// How many bytes follow it.
        actual: usize,
    },
    /// The last field ended before the frame did.
    TrailingBytes(usize),
    /// Bitmap bit 1 announces a secondary bitmap, which this dialect never sends.
    SecondaryBitmap,
    /// The bitmap names a field the table does not have.
    UnknownField,
    /// A nibble of a BCD part (MTI, length prefix, n field) is above 9.
    NotBcd,
    /// The pad nibble of an odd digit count is not `0`.
    PadNotZero,
    /// A length prefix counts more than the field's maximum.
    TooLong {
        /// What the prefix says.
        len: usize,
        /// The field's maximum.
        max: usize,
    },
    /// An an/ans field holds a byte its kind does not admit.
    BadText,
}

impl fmt::Display for DecodeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Short { needed, left } => write!(f, "expected {needed} bytes, {left} left"),
            Self::LengthMismatch { prefix, actual } => {
                write!(f, "the length prefix says {prefix} bytes, {actual} follow")
            }
            Self::TrailingBytes(n) => write!(f, "{n} bytes after the last field"),
            Self::SecondaryBitmap => f.write_str("a secondary bitmap (bit 1) is not supported"),
            Self::UnknownField => f.write_str("not in the field table"),
            Self::NotBcd => f.write_str("a nibble is not a decimal digit"),
            Self::PadNotZero => f.write_str("the pad nibble is not 0"),
            Self::TooLong { len, max } => write!(f, "length {len} over the maximum {max}"),
            Self::BadText => f.write_str("a character its kind does not admit"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(n) => write!(f, "field {n}: {}", self.reason),
            None => write!(f, "frame: {}", self.reason),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeError {
    /// The field that is wrong; `None` for the frame as a whole.
    pub field: Option<u8>,
    /// What is wrong.
    pub reason: EncodeReason,
}

/// What is wrong with a message to encode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodeReason {
    /// The field is not in the table (field 1, the bitmap's flag, never is).
    UnknownField,
    /// Bytes for an n/an/ans field, or text for a b field.
    WrongValue,
    /// An n field holds something other than digits.
    NotDigits,
    /// An an/ans field holds a character its kind does not admit.
    BadText,
    /// A fixed field of the wrong length.
    WrongLength {
        /// The content's length.
        len: usize,
        /// The field's length.
        expected: usize,
    },
    /// A variable field over its maximum.
    TooLong {
        /// The content's length.
        len: usize,
        /// The field's maximum.
        max: usize,
    },
    /// The frame would not fit its 2-byte length prefix.
    FrameTooLong(usize),
}

impl fmt::Display for EncodeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownField => f.write_str("not in the field table"),
            Self::WrongValue => f.write_str("text for a b field or bytes for a text field"),
            Self::NotDigits => f.write_str("an n field holds only digits"),
            Self::BadText => f.write_str("a character its kind does not admit"),
            Self::WrongLength { len, expected } => {
                write!(f, "length {len}, the field is {expected} long")
            }
            Self::TooLong { len, max } => write!(f, "length {len} over the maximum {max}"),
            Self::FrameTooLong(n) => write!(f, "{n} bytes do not fit a 2-byte length"),
        }
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(n) => write!(f, "field {n}: {}", self.reason),
            None => write!(f, "frame: {}", self.reason),
        }
    }
}

impl std::error::Error for EncodeError {}
