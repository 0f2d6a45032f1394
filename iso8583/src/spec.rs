//! The field table: what each data element looks like on the wire. Encode and decode both read
//! it, so a field's layout is written down once; another acquirer's dialect is another table.

use std::fmt;

/// The first and last field a primary-bitmap table can hold (field 1 is the secondary bitmap's
/// flag, which this codec refuses).
pub const FIRST_FIELD: u8 = 2;
/// See [`FIRST_FIELD`].
pub const LAST_FIELD: u8 = 64;

/// How a field's content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Digits, packed BCD: two a byte.
    N,
    /// Letters, digits and space, one ASCII byte each (acquirers pad `an` fields with spaces).
    An,
    /// Any printable ASCII character, one byte each.
    Ans,
    /// Raw bytes.
    B,
}

/// How long a field is: fixed, or a BCD length prefix of 2 (LL, one byte) or 3 (LLL, two bytes)
/// digits. The number is the fixed length or the maximum, counted in digits for [`Kind::N`] and
/// in bytes for the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Len {
    /// Always this long.
    Fixed(usize),
    /// A one-byte BCD prefix, at most this long (at most 99).
    LlVar(usize),
    /// A two-byte BCD prefix, at most this long (at most 999).
    LllVar(usize),
}

/// Where the pad nibble of an odd number of digits goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Digits first, a trailing `0` nibble (`012` → `01 20`).
    Left,
    /// A leading `0` nibble, then the digits (`012` → `00 12`).
    Right,
}

/// One field's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The content's kind.
    pub kind: Kind,
    /// Its length rule.
    pub len: Len,
    /// Where the pad nibble of an odd digit count goes; only [`Kind::N`] reads it.
    pub align: Align,
}

impl FieldSpec {
    /// A digit field, right-aligned when its digit count is odd.
    pub const fn n(len: Len) -> Self {
        Self {
            kind: Kind::N,
            len,
            align: Align::Right,
        }
    }

    /// A digit field, left-aligned when its digit count is odd.
    pub const fn n_left(len: Len) -> Self {
        Self {
            kind: Kind::N,
            len,
            align: Align::Left,
        }
    }

    /// A field of letters, digits and space.
    pub const fn an(len: Len) -> Self {
        Self {
            kind: Kind::An,
            len,
            align: Align::Left,
        }
    }

    /// A field of printable ASCII.
    pub const fn ans(len: Len) -> Self {
        Self {
            kind: Kind::Ans,
            len,
            align: Align::Left,
        }
    }

    /// A field of bytes.
    pub const fn b(len: Len) -> Self {
        Self {
            kind: Kind::B,
            len,
            align: Align::Left,
        }
    }

    /// The longest content the field admits (digits for n, bytes otherwise).
    pub const fn max_len(&self) -> usize {
        match self.len {
            Len::Fixed(n) | Len::LlVar(n) | Len::LllVar(n) => n,
        }
    }
}

/// The UnionPay POS dialect's fields (docs/architecture.md, "The acquirer codec"): every field the
/// messages of that dialect carry, and no other.
const UNIONPAY: &[(u8, FieldSpec)] = &[
    (2, FieldSpec::n_left(Len::LlVar(19))),
    (3, FieldSpec::n(Len::Fixed(6))),
    (4, FieldSpec::n(Len::Fixed(12))),
    (11, FieldSpec::n(Len::Fixed(6))),
    (12, FieldSpec::n(Len::Fixed(6))),
    (13, FieldSpec::n(Len::Fixed(4))),
    (14, FieldSpec::n(Len::Fixed(4))),
    (15, FieldSpec::n(Len::Fixed(4))),
    (22, FieldSpec::n_left(Len::Fixed(3))),
    (25, FieldSpec::n(Len::Fixed(2))),
    (37, FieldSpec::an(Len::Fixed(12))),
    (38, FieldSpec::an(Len::Fixed(6))),
    (39, FieldSpec::an(Len::Fixed(2))),
    (41, FieldSpec::ans(Len::Fixed(8))),
    (42, FieldSpec::ans(Len::Fixed(15))),
    (48, FieldSpec::n_left(Len::LllVar(322))),
    (49, FieldSpec::an(Len::Fixed(3))),
    (60, FieldSpec::n_left(Len::LllVar(19))),
    (61, FieldSpec::n_left(Len::LllVar(29))),
    (62, FieldSpec::b(Len::LllVar(512))),
    (63, FieldSpec::ans(Len::LllVar(163))),
    (64, FieldSpec::b(Len::Fixed(8))),
];

/// A dialect: the layout of each field 2..=64 it uses. A field not in it is refused both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// Indexed by field number; 0 and 1 stay empty.
    fields: [Option<FieldSpec>; 65],
}

/// Why a table given to [`Spec::from_table`] is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The field whose entry is wrong.
    pub field: u8,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.reason)
    }
}

impl std::error::Error for SpecError {}

impl Spec {
    /// The UnionPay POS dialect (the default profile).
    pub fn unionpay() -> Self {
        Self::build(UNIONPAY)
    }

    /// Another dialect's table: each field at most once, numbered 2..=64, a fixed length above
    /// zero and a maximum its prefix can count (99 for LL, 999 for LLL).
    pub fn from_table(table: &[(u8, FieldSpec)]) -> Result<Self, SpecError> {
        let mut seen = [false; 65];
        for &(field, spec) in table {
            let reason = match spec.len {
                _ if !(FIRST_FIELD..=LAST_FIELD).contains(&field) => Some("not a field 2..=64"),
                Len::Fixed(0) => Some("a fixed length of zero"),
                Len::LlVar(max) if max > 99 => Some("an LL prefix counts at most 99"),
                Len::LllVar(max) if max > 999 => Some("an LLL prefix counts at most 999"),
                _ => None,
            };
            let reason = match seen.get_mut(usize::from(field)) {
                Some(true) => reason.or(Some("listed twice")),
                Some(slot) => {
                    *slot = true;
                    reason
                }
                None => reason,
            };
            if let Some(reason) = reason {
                return Err(SpecError { field, reason });
            }
        }
        Ok(Self::build(table))
    }

    fn build(table: &[(u8, FieldSpec)]) -> Self {
        let mut fields = [None; 65];
        for &(field, spec) in table {
            if let Some(slot) = fields.get_mut(usize::from(field)) {
                *slot = Some(spec);
            }
        }
        Self { fields }
    }

    /// The layout of `field`, if the dialect has it.
    pub fn field(&self, field: u8) -> Option<FieldSpec> {
        if field < FIRST_FIELD {
            return None;
        }
        self.fields.get(usize::from(field)).copied().flatten()
    }

    /// Every field of the dialect with its layout, in field order.
    pub fn fields(&self) -> impl Iterator<Item = (u8, FieldSpec)> + '_ {
        (FIRST_FIELD..=LAST_FIELD).filter_map(|n| self.field(n).map(|spec| (n, spec)))
    }
}
