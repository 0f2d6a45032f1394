//! Encode and decode a whole frame by the field table. Both directions read the same
//! [`FieldSpec`], so what one writes the other reads; decoding refuses anything encoding would not
//! have written, which makes `encode(decode(bytes)) == bytes` whenever decoding succeeds.

use crate::error::{DecodeError, DecodeReason, EncodeError, EncodeReason};
use crate::message::{frame_len, Frame, Message, Mti, Value};
use crate::spec::{Align, FieldSpec, Kind, Len, Spec, FIRST_FIELD, LAST_FIELD};

impl Spec {
    /// The whole wire frame: the 2-byte big-endian length, TPDU, header, MTI, bitmap, fields.
    pub fn encode(&self, frame: &Frame) -> Result<Vec<u8>, EncodeError> {
        let message = &frame.message;
        let mut body = Vec::with_capacity(128);
        body.extend_from_slice(&frame.tpdu);
        body.extend_from_slice(&frame.header);
        body.extend(pack_digits(&message.mti.digits(), Align::Right));
        let mut bitmap = [0u8; 8];
        for &field in message.fields.keys() {
            let known = self.field(field).is_some();
            let slot = bitmap.get_mut(usize::from(field.wrapping_sub(1) / 8));
            match slot {
                Some(byte) if known => *byte |= bit(field),
                _ => {
                    return Err(EncodeError {
                        field: Some(field),
                        reason: EncodeReason::UnknownField,
                    })
                }
            }
        }
        body.extend_from_slice(&bitmap);
        for (&field, value) in &message.fields {
            let at = |reason| EncodeError {
                field: Some(field),
                reason,
            };
            let spec = self.field(field).ok_or(at(EncodeReason::UnknownField))?;
            encode_field(&mut body, spec, value).map_err(at)?;
        }
        let len = u16::try_from(body.len()).map_err(|_| EncodeError {
            field: None,
            reason: EncodeReason::FrameTooLong(body.len()),
        })?;
        let mut wire = Vec::with_capacity(body.len() + 2);
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&body);
        Ok(wire)
    }

    /// A frame from the whole wire bytes, length prefix included. Never panics; the error names
    /// the field that failed.
    pub fn decode(&self, bytes: &[u8]) -> Result<Frame, DecodeError> {
        let frame_err = |reason| DecodeError {
            field: None,
            reason,
        };
        let (prefix, body) =
            bytes
                .split_first_chunk::<2>()
                .ok_or(frame_err(DecodeReason::Short {
                    needed: 2,
                    left: bytes.len(),
                }))?;
        let declared = frame_len(*prefix);
        if declared != body.len() {
            let actual = body.len();
            return Err(frame_err(DecodeReason::LengthMismatch {
                prefix: declared,
                actual,
            }));
        }
        let mut r = Reader {
            rest: body,
            field: None,
        };
        let tpdu = r.array::<5>()?;
        let header = r.array::<6>()?;
        let mut message = Message::new(r.mti()?);
        for (field, spec) in self.present(r.array::<8>()?)? {
            r.field = Some(field);
            message.fields.insert(field, r.value(spec)?);
        }
        if !r.rest.is_empty() {
            return Err(frame_err(DecodeReason::TrailingBytes(r.rest.len())));
        }
        Ok(Frame {
            tpdu,
            header,
            message,
        })
    }

    /// The fields the bitmap announces with their layout, all checked before any is read so an
    /// unknown one is named even when the bytes before it are bad.
    fn present(&self, bitmap: [u8; 8]) -> Result<Vec<(u8, FieldSpec)>, DecodeError> {
        if bitmap[0] & 0x80 != 0 {
            return Err(DecodeError {
                field: None,
                reason: DecodeReason::SecondaryBitmap,
            });
        }
        (FIRST_FIELD..=LAST_FIELD)
            .filter(|&n| has_bit(&bitmap, n))
            .map(|n| {
                self.field(n).map(|spec| (n, spec)).ok_or(DecodeError {
                    field: Some(n),
                    reason: DecodeReason::UnknownField,
                })
            })
            .collect()
    }
}

/// The bitmap bit of `field` within its byte (field 1 is the first byte's top bit).
fn bit(field: u8) -> u8 {
    0x80 >> (field.wrapping_sub(1) % 8)
}

fn has_bit(bitmap: &[u8; 8], field: u8) -> bool {
    bitmap
        .get(usize::from(field.wrapping_sub(1) / 8))
        .is_some_and(|byte| byte & bit(field) != 0)
}

/// Packs digit values (0..=9) two a byte, the pad nibble of an odd count placed by `align`.
fn pack_digits(digits: &[u8], align: Align) -> Vec<u8> {
    let odd = digits.len() % 2 == 1;
    let mut nibbles = Vec::with_capacity(digits.len() + 1);
    if odd && align == Align::Right {
        nibbles.push(0);
    }
    nibbles.extend_from_slice(digits);
    if odd && align == Align::Left {
        nibbles.push(0);
    }
    nibbles
        .chunks(2)
        .map(|pair| pair.iter().fold(0u8, |acc, d| (acc << 4) | d))
        .collect()
}

fn encode_field(out: &mut Vec<u8>, spec: FieldSpec, value: &Value) -> Result<(), EncodeReason> {
    let content: &[u8] = match (spec.kind, value) {
        (Kind::B, Value::Bytes(b)) => b,
        (Kind::N | Kind::An | Kind::Ans, Value::Text(t)) => t.as_bytes(),
        _ => return Err(EncodeReason::WrongValue),
    };
    match spec.kind {
        Kind::N if !content.iter().all(u8::is_ascii_digit) => return Err(EncodeReason::NotDigits),
        Kind::An | Kind::Ans if !content.iter().all(|&b| admits(spec.kind, b)) => {
            return Err(EncodeReason::BadText)
        }
        _ => {}
    }
    let len = content.len();
    match spec.len {
        Len::Fixed(expected) if len != expected => {
            return Err(EncodeReason::WrongLength { len, expected })
        }
        Len::LlVar(max) | Len::LllVar(max) if len > max => {
            return Err(EncodeReason::TooLong { len, max })
        }
        Len::Fixed(_) => {}
        Len::LlVar(_) => out.extend(length_prefix(len, 2)?),
        Len::LllVar(_) => out.extend(length_prefix(len, 4)?),
    }
    if spec.kind == Kind::N {
        let digits: Vec<u8> = content.iter().map(|d| d - b'0').collect();
        out.extend(pack_digits(&digits, spec.align));
    } else {
        out.extend_from_slice(content);
    }
    Ok(())
}

/// A BCD length prefix of `nibbles` digits (2 for LL, 4 for LLL: a leading `0` then three).
fn length_prefix(len: usize, nibbles: u32) -> Result<Vec<u8>, EncodeReason> {
    let max = 10usize.pow(nibbles.min(3)) - 1;
    if len > max {
        return Err(EncodeReason::TooLong { len, max });
    }
    let digits: Vec<u8> = (0..nibbles)
        .rev()
        .map(|i| (len / 10usize.pow(i) % 10) as u8)
        .collect();
    Ok(pack_digits(&digits, Align::Right))
}

/// Whether a text field of this kind admits this byte.
pub(crate) fn admits(kind: Kind, byte: u8) -> bool {
    match kind {
        Kind::An => byte.is_ascii_alphanumeric() || byte == b' ',
        Kind::Ans => (0x20..=0x7e).contains(&byte),
        Kind::N => byte.is_ascii_digit(),
        Kind::B => true,
    }
}

/// The bytes not yet read, and the field being read for the errors.
struct Reader<'a> {
    rest: &'a [u8],
    field: Option<u8>,
}

impl<'a> Reader<'a> {
    fn err(&self, reason: DecodeReason) -> DecodeError {
        DecodeError {
            field: self.field,
            reason,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or_else(|| {
            self.err(DecodeReason::Short {
                needed: n,
                left: self.rest.len(),
            })
        })?;
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).map_err(|_| {
            self.err(DecodeReason::Short {
                needed: N,
                left: bytes.len(),
            })
        })
    }

    /// `count` digit values packed in `(count + 1) / 2` bytes, the pad nibble placed by `align`.
    fn digits(&mut self, count: usize, align: Align) -> Result<Vec<u8>, DecodeError> {
        let bytes = self.take(count.div_ceil(2))?;
        let nibbles: Vec<u8> = bytes.iter().flat_map(|b| [b >> 4, b & 0x0f]).collect();
        let split = match (count % 2 == 1, align) {
            (false, _) => Some((None, nibbles.as_slice())),
            (true, Align::Left) => nibbles.split_last().map(|(pad, d)| (Some(*pad), d)),
            (true, Align::Right) => nibbles.split_first().map(|(pad, d)| (Some(*pad), d)),
        };
        let (pad, digits) =
            split.ok_or_else(|| self.err(DecodeReason::Short { needed: 1, left: 0 }))?;
        if digits.iter().any(|&d| d > 9) {
            return Err(self.err(DecodeReason::NotBcd));
        }
        if pad.is_some_and(|p| p != 0) {
            return Err(self.err(DecodeReason::PadNotZero));
        }
        Ok(digits.to_vec())
    }

    fn mti(&mut self) -> Result<Mti, DecodeError> {
        let digits = self.digits(4, Align::Right)?;
        let value = digits.iter().fold(0u16, |acc, &d| acc * 10 + u16::from(d));
        Mti::new(value).ok_or(self.err(DecodeReason::NotBcd))
    }

    fn length(&mut self, nibbles: usize, max: usize) -> Result<usize, DecodeError> {
        let digits = self.digits(nibbles, Align::Right)?;
        let len = digits
            .iter()
            .fold(0usize, |acc, &d| acc * 10 + usize::from(d));
        if len > max {
            return Err(self.err(DecodeReason::TooLong { len, max }));
        }
        Ok(len)
    }

    fn value(&mut self, spec: FieldSpec) -> Result<Value, DecodeError> {
        let len = match spec.len {
            Len::Fixed(n) => n,
            Len::LlVar(max) => self.length(2, max)?,
            Len::LllVar(max) => self.length(4, max)?,
        };
        match spec.kind {
            Kind::N => {
                let digits = self.digits(len, spec.align)?;
                Ok(Value::Text(
                    digits.iter().map(|&d| char::from(b'0' + d)).collect(),
                ))
            }
            Kind::B => Ok(Value::Bytes(self.take(len)?.to_vec())),
            Kind::An | Kind::Ans => {
                let bytes = self.take(len)?;
                if !bytes.iter().all(|&b| admits(spec.kind, b)) {
                    return Err(self.err(DecodeReason::BadText));
                }
                String::from_utf8(bytes.to_vec())
                    .map(Value::Text)
                    .map_err(|_| self.err(DecodeReason::BadText))
            }
        }
    }
}
