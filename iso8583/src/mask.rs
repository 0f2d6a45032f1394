//! How a message shows in a log line: every field, but never card data, PIN, keys or MAC.

use std::fmt;

use crate::message::{Frame, Message, Value};

/// How one field shows.
enum Shown<'a> {
    /// As it is.
    Plain(&'a Value),
    /// The PAN: first 6 and last 4 digits, stars between (all stars when shorter than 13).
    Pan(&'a str),
    /// Never shown, not even its length: expiry and track data.
    Hidden,
    /// Only its length: PIN block, chip data, keys, MAC.
    Length(usize),
}

fn shown(field: u8, value: &Value) -> Shown<'_> {
    let len = match value {
        Value::Text(t) => t.len(),
        Value::Bytes(b) => b.len(),
    };
    match (field, value) {
        (2, Value::Text(pan)) => Shown::Pan(pan),
        (2 | 52 | 55 | 62 | 64, _) => Shown::Length(len),
        (14 | 35 | 36 | 45, _) => Shown::Hidden,
        _ => Shown::Plain(value),
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(Value::Text(t)) => write!(f, "{t:?}"),
            Self::Plain(Value::Bytes(b)) => b.iter().try_for_each(|byte| write!(f, "{byte:02x}")),
            Self::Pan(pan) => {
                let n = pan.chars().count();
                let (head, tail) = if n >= 13 { (6, 4) } else { (0, 0) };
                let masked: String = pan
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i < head || i >= n - tail { c } else { '*' })
                    .collect();
                f.write_str(&masked)
            }
            Self::Hidden => f.write_str("****"),
            Self::Length(n) => write!(f, "[{n} bytes]"),
        }
    }
}

/// `0200 2=622202*********0123 3="000000" …`: the MTI, then each field in order, masked.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.mti)?;
        for (&field, value) in &self.fields {
            write!(f, " {field}={}", shown(field, value))?;
        }
        Ok(())
    }
}

/// Masked as its `Display`, so that `{:?}` in a log line cannot show a PAN either.
impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Masked as its `Display`, like [`Message`]'s `Debug`.
impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `tpdu=6000030000 header=603100000000 0200 …`, the message masked as [`Message`] shows it.
impl fmt::Display for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tpdu=")?;
        self.tpdu.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str(" header=")?;
        self.header.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, " {}", self.message)
    }
}
