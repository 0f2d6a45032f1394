//! # softpos-iso8583
//!
//! The ISO 8583 codec the softpos host speaks to its acquirer, pure and data-driven: one field
//! table ([`Spec`]) says how each field is written (kind, length prefix, alignment) and drives
//! both [`Spec::encode`] and [`Spec::decode`]. [`Spec::unionpay`] is the default dialect, the
//! UnionPay POS one; another acquirer's dialect is another table ([`Spec::from_table`]).
//!
//! ## A frame
//!
//! ```text
//! [length 2, big-endian, counts what follows][TPDU 5][header 6][MTI 2, BCD][bitmap 8][fields]
//! ```
//!
//! A sale of 10.00 CNY, byte for byte:
//!
//! ```text
//! 00 51                          81 bytes follow
//! 60 00 03 00 00                 TPDU: 60, destination 0003, source 0000
//! 60 31 00 00 00 00              header (its third byte's low nibble: processing requirement)
//! 02 00                          MTI 0200
//! 70 24 04 80 00 c0 80 10        bitmap: fields 2 3 4 11 14 22 25 41 42 49 60
//! 19 62 22 02 12 34 56 78 90 12 30   2  PAN, LL = 19 digits, left-aligned, pad nibble 0
//! 00 00 00                       3  processing code 000000
//! 00 00 00 00 10 00              4  amount 000000001000 (minor units)
//! 00 01 23                       11 trace 000123
//! 28 12                          14 expiry 2812
//! 01 20                          22 entry mode 012, left-aligned
//! 00                             25 condition code 00
//! 31 30 30 30 30 30 30 31        41 terminal id "10000001" (ASCII)
//! 31 32 … 35                     42 merchant id "123456789012345"
//! 31 35 36                       49 currency "156"
//! 00 08 22 00 00 01              60 LLL = 8 digits: 60.1 22 (sale), 60.2 batch 000001
//! ```
//!
//! Length prefixes are BCD and count digits for n fields, bytes for the others. Decoding refuses
//! what encoding never writes — a length prefix that disagrees, trailing bytes, a secondary
//! bitmap, a field outside the table, non-BCD nibbles, a pad nibble other than `0`, a length over
//! the maximum, a character outside its kind — and names the field that failed. It never panics.
//!
//! ```
//! use softpos_iso8583::{Frame, Message, Spec, Value};
//!
//! let spec = Spec::unionpay();
//! let echo = Message::new("0820".parse()?)
//!     .with(11, Value::text("000042"))
//!     .with(60, Value::text("00000001301"));
//! let frame = Frame { tpdu: [0x60, 0, 3, 0, 0], header: [0x60, 0x31, 0, 0, 0, 0], message: echo };
//! let wire = spec.encode(&frame)?;
//! assert_eq!(softpos_iso8583::frame_len([wire[0], wire[1]]), wire.len() - 2);
//! assert_eq!(spec.decode(&wire)?, frame);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `Display` (and `Debug`) of a [`Message`] or [`Frame`] is for logs: the PAN shows its first 6
//! and last 4 digits, expiry and track data show `****`, PIN block, chip data, keys (62) and MAC
//! (64) show only their length.
#![deny(missing_docs)]
// Functions stay short enough to read whole (docs/architecture.md, "Code shape").
#![warn(clippy::too_many_lines)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod codec;
mod error;
pub mod fields;
mod mask;
mod message;
mod spec;

pub use error::{DecodeError, DecodeReason, EncodeError, EncodeReason};
pub use message::{
    frame_len, processing_requirement, swap_tpdu, Frame, Message, Mti, MtiError, Value,
    SIGN_IN_AGAIN,
};
pub use spec::{Align, FieldSpec, Kind, Len, Spec, SpecError, FIRST_FIELD, LAST_FIELD};
