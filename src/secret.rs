//! A password in memory: passed on, compared, never shown.
//!
//! Operators' and supervisors' passwords travel inside commands, an operation's phase and the
//! wire requests, all of which derive `Debug`; a `{:?}` of any of them (a `tracing` line, a
//! panic message, a test's failure) prints `[redacted]` instead.

use crate::protocol::codec::{Decode, Encode, Unreadable, Value};
use crate::protocol::shape::{Ts, TsRef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A secret string: serde reads and writes it as the plain string, `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The text, for the one place that sends or checks it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(text: String) -> Secret {
        Secret(text)
    }
}

impl From<&str> for Secret {
    fn from(text: &str) -> Secret {
        Secret(text.to_owned())
    }
}

impl PartialEq<&str> for Secret {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Decode for Secret {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        String::decode(v).map(Secret)
    }
    fn stand_in() -> Self {
        Secret::default()
    }
}

impl Encode for Secret {
    fn encode<V: Value>(&self) -> V {
        V::string(&self.0)
    }
}

impl TsRef for Secret {
    const TS: Ts = Ts::new().push("string");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r16_a_secret_from_either_kind_of_string_keeps_its_text() {
        let typed = String::from("pw-0427");
        assert_eq!(Secret::from(typed).expose(), "pw-0427");
        assert_eq!(Secret::from("pw-0427").expose(), "pw-0427");
    }

    #[test]
    fn r4_a_secret_reads_and_writes_as_its_string_and_never_shows() {
        let s: Secret = serde_json::from_str("\"pw123456\"").unwrap();
        assert_eq!(s.expose(), "pw123456");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"pw123456\"");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}
