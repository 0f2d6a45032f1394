//! The identifiers of the terminal's world as types, each checked once where it enters.
//!
//! A value of one of these types has the shape docs/rules.md gives it: a merchant is fifteen
//! digits, a terminal eight letters or digits, an operator two digits, a request id a UUID, a
//! trace or batch number 1..=999999. The wire types carry them (serde parses through
//! `TryFrom`), so a malformed id is refused while the JSON is read and never reaches the
//! terminal's rules or a database query. Their text is plain ASCII, which is also why none can
//! carry a NUL or a quote into SQL.

use crate::error::{Error, ErrorCode};
use crate::protocol::codec::{Decode, Encode, Unreadable, Value, BAD};
use crate::protocol::shape::{Ts, TsRef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest trace and batch number; both wrap to 1 after it.
pub const MAX_SEQUENCE: u32 = 999_999;

/// What did not fit: the kind of identifier, for the refusal's message. The message never
/// repeats the value (an answer does not echo what was sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadId(pub &'static str);

impl fmt::Display for BadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadId {}

impl From<BadId> for Error {
    fn from(e: BadId) -> Error {
        Error::with_detail(ErrorCode::BadRequest, e.0)
    }
}

/// Whether a message is one of these types' refusals: text of ours, which names the kind of id
/// and never the value, so an answer may repeat it.
pub fn is_refusal(message: &str) -> bool {
    [
        MerchantId::REFUSAL,
        TerminalId::REFUSAL,
        OperatorId::REFUSAL,
        RequestId::REFUSAL,
        TraceNo::REFUSAL,
        BatchNo::REFUSAL,
    ]
    .contains(&message)
}

fn all_bytes(text: &str, len: usize, ok: fn(&u8) -> bool) -> bool {
    text.len() == len && text.as_bytes().iter().all(ok)
}

/// A UUID in its hyphenated form (`8-4-4-4-12` hex digits), the form the terminal sends.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Declares a text identifier: its check, `as_str`, `Display`, and serde through `String`.
macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident, $pattern:literal, $refusal:literal, |$s:ident| $ok:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(
            feature = "openapi",
            derive(utoipa::ToSchema),
            schema(value_type = String, pattern = $pattern)
        )]
        pub struct $name(String);

        impl $name {
            /// The refusal of a value that does not fit, the same for every value.
            pub const REFUSAL: &'static str = $refusal;

            /// Checks the shape; the refusal names the kind of id, never the value.
            pub fn parse(text: &str) -> Result<$name, BadId> {
                if Self::fits(text) {
                    Ok($name(text.to_owned()))
                } else {
                    Err(BadId($refusal))
                }
            }

            fn fits($s: &str) -> bool {
                $ok
            }

            /// The id as sent on the wire and stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = BadId;
            fn try_from(text: String) -> Result<$name, BadId> {
                if Self::fits(&text) {
                    Ok($name(text))
                } else {
                    Err(BadId($refusal))
                }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        /// The browser's reader refuses what serde refuses.
        impl Decode for $name {
            fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
                $name::try_from(String::decode(v)?).map_err(|_| BAD)
            }
            fn stand_in() -> Self {
                $name(String::new())
            }
        }

        impl Encode for $name {
            fn encode<V: Value>(&self) -> V {
                V::string(&self.0)
            }
        }

        impl TsRef for $name {
            const TS: Ts = Ts::new().push("string");
        }
    };
}

text_id!(
    /// A merchant: fifteen digits, as acquirers number them.
    MerchantId, "^[0-9]{15}$", "a merchant id is 15 digits",
    |s| all_bytes(s, 15, u8::is_ascii_digit)
);

text_id!(
    /// A terminal: eight letters or digits.
    TerminalId, "^[0-9A-Za-z]{8}$", "a terminal id is 8 letters or digits",
    |s| all_bytes(s, 8, u8::is_ascii_alphanumeric)
);

text_id!(
    /// An operator of a terminal: two digits, 01..99, or 00 for the supervisor.
    OperatorId, "^[0-9]{2}$", "an operator is two digits, 01..99, or 00 for the supervisor",
    |s| all_bytes(s, 2, u8::is_ascii_digit)
);

text_id!(
    /// The id that makes a request idempotent: a hyphenated UUID the terminal draws.
    RequestId,
    "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",
    "a request id is a UUID (8-4-4-4-12 hex digits)",
    |s| is_uuid(s)
);

impl RequestId {
    /// A version 4 UUID from sixteen random bytes: always of the shape, so drawing one cannot
    /// fail.
    pub fn from_random(mut b: [u8; 16]) -> RequestId {
        b[6] = (b[6] & 0x0f) | 0x40; // version 4
        b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut id = String::with_capacity(36);
        for (i, x) in b.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                id.push('-');
            }
            id.push(char::from(HEX[usize::from(x >> 4)]));
            id.push(char::from(HEX[usize::from(x & 15)]));
        }
        RequestId(id)
    }
}

/// Declares a sequence number in 1..=MAX_SEQUENCE that wraps to 1.
macro_rules! sequence {
    ($(#[$doc:meta])* $name:ident, $refusal:literal) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(try_from = "u32", into = "u32")]
        #[cfg_attr(
            feature = "openapi",
            derive(utoipa::ToSchema),
            schema(value_type = u32)
        )]
        pub struct $name(u32);

        impl $name {
            /// The refusal of a value that does not fit, the same for every value.
            pub const REFUSAL: &'static str = $refusal;

            /// The first number of a terminal's life.
            pub const FIRST: $name = $name(1);

            /// The number, in 1..=MAX_SEQUENCE.
            pub fn get(self) -> u32 {
                self.0
            }

            /// `n` brought into range: below 1 is 1, above the maximum is the maximum.
            pub fn clamped(n: u32) -> $name {
                $name(n.clamp(1, MAX_SEQUENCE))
            }

            /// The number after this one: MAX_SEQUENCE wraps to 1.
            pub fn next(self) -> $name {
                if self.0 >= MAX_SEQUENCE {
                    $name(1)
                } else {
                    $name(self.0 + 1)
                }
            }
        }

        impl TryFrom<u32> for $name {
            type Error = BadId;
            fn try_from(n: u32) -> Result<$name, BadId> {
                if (1..=MAX_SEQUENCE).contains(&n) {
                    Ok($name(n))
                } else {
                    Err(BadId($refusal))
                }
            }
        }

        impl TryFrom<i64> for $name {
            type Error = BadId;
            fn try_from(n: i64) -> Result<$name, BadId> {
                u32::try_from(n).map_err(|_| BadId($refusal)).and_then($name::try_from)
            }
        }

        impl PartialEq<u32> for $name {
            fn eq(&self, other: &u32) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for u32 {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<$name> for u32 {
            fn from(n: $name) -> u32 {
                n.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:06}", self.0)
            }
        }

        /// The browser's reader refuses what serde refuses.
        impl Decode for $name {
            fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
                $name::try_from(u32::decode(v)?).map_err(|_| BAD)
            }
            fn stand_in() -> Self {
                $name::FIRST
            }
        }

        impl Encode for $name {
            fn encode<V: Value>(&self) -> V {
                V::integer(i64::from(self.0))
            }
        }

        impl TsRef for $name {
            const TS: Ts = Ts::new().push("number");
        }
    };
}

sequence!(
    /// A transaction's number within its terminal's life, printed with six digits.
    TraceNo, "a trace number is 1..=999999"
);

sequence!(
    /// A batch's number within its terminal's life, printed with six digits.
    BatchNo, "a batch number is 1..=999999"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_ids_have_their_shape_and_nothing_else() {
        assert!(MerchantId::parse("123456789012345").is_ok());
        for bad in ["12345678901234", "1234567890123456", "12345678901234a", ""] {
            assert_eq!(
                MerchantId::parse(bad),
                Err(BadId("a merchant id is 15 digits"))
            );
        }
        assert!(TerminalId::parse("T0000001").is_ok());
        for bad in ["T000001", "T00000001", "T000000-", "T000000\0"] {
            assert!(TerminalId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(OperatorId::parse("00").is_ok());
        for bad in ["1", "001", "0a", "٠١"] {
            assert!(OperatorId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(RequestId::parse("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        let drawn = RequestId::from_random([0xff; 16]);
        assert_eq!(drawn.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(RequestId::parse(drawn.as_str()), Ok(drawn));
        for bad in [
            "0f8fad5bd9cb469fa16570867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950",
            "0f8fad5b-d9cb-469f-a165_70867728950e",
            "0f8fad5b-d9cb-469f-a165-70867728950g",
        ] {
            assert!(RequestId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn r9_sequence_numbers_are_1_to_999999_and_wrap_to_1() {
        assert_eq!(
            TraceNo::try_from(0u32),
            Err(BadId("a trace number is 1..=999999"))
        );
        assert_eq!(
            BatchNo::try_from(1_000_000u32),
            Err(BadId("a batch number is 1..=999999"))
        );
        assert_eq!(
            TraceNo::try_from(-1i64),
            Err(BadId("a trace number is 1..=999999"))
        );
        assert_eq!(
            TraceNo::try_from(i64::from(u32::MAX) + 2)
                .map(TraceNo::get)
                .ok(),
            None
        );
        let last = TraceNo::try_from(MAX_SEQUENCE).map(TraceNo::next);
        assert_eq!(last, Ok(TraceNo::FIRST));
        assert_eq!(BatchNo::FIRST.next().get(), 2);
        assert_eq!(TraceNo::FIRST.to_string(), "000001");
    }

    #[test]
    fn r17_only_an_ids_own_refusal_may_be_repeated_in_an_answer() {
        for refusal in [
            MerchantId::REFUSAL,
            TerminalId::REFUSAL,
            OperatorId::REFUSAL,
            RequestId::REFUSAL,
            TraceNo::REFUSAL,
            BatchNo::REFUSAL,
        ] {
            assert!(is_refusal(refusal), "{refusal}");
        }
        for other in ["", "invalid value: string \"4111111111111111\"", "trace_no"] {
            assert!(!is_refusal(other), "{other}");
        }
    }

    #[test]
    fn r17_ids_read_from_json_are_checked_and_written_back_unchanged() {
        let id: Result<MerchantId, _> = serde_json::from_str("\"123456789012345\"");
        assert_eq!(
            id.map(String::from).ok().as_deref(),
            Some("123456789012345")
        );
        let bad = serde_json::from_str::<MerchantId>("\"12345\"").map_err(|e| e.to_string());
        assert_eq!(bad, Err("a merchant id is 15 digits".to_owned()));
        let trace: Result<TraceNo, _> = serde_json::from_str("42");
        assert_eq!(trace.map(TraceNo::get).ok(), Some(42));
        assert!(serde_json::from_str::<BatchNo>("0").is_err());
        assert_eq!(
            serde_json::to_string(&BatchNo::FIRST).ok().as_deref(),
            Some("1")
        );
    }
}
