//! The codec's writers straight to JSON text: what the browser sends as a request body, and
//! what it hands to `JSON.parse` for a plain object (src/wasm/codec.rs). Building a JS object
//! field by field costs a crossing out of the module for every field and every string in it;
//! the text costs one, and `JSON.parse` builds the object natively. A 10 000-entry batch upload
//! (R11) is one string.
//!
//! Only the writing half of [`Value`]: nothing is ever read from a `JsonText`, so its readers
//! find nothing.

use super::{Unreadable, Value};
use std::fmt::Write as _;

/// A JSON value as text, always complete: an object's members go in before its `}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl JsonText {
    /// Appends `item` to an array being built (`[` and items so far). Out of line: the writers
    /// are generic, and each inlined copy of this would be bytes the browser downloads.
    #[inline(never)]
    fn push_item(out: &mut String, item: JsonText) {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&item.0);
    }

    /// `s` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as it is (JSON text is UTF-8).
    #[inline(never)]
    fn quote(out: &mut String, s: &str) {
        out.push('"');
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let escaped = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            // `get`, not indexing: the cut is at an ASCII byte, so on a character boundary, and
            // indexing would bring its panic's message machinery into the module.
            out.push_str(s.get(plain..i).unwrap_or_default());
            plain = i + 1;
            if escaped.is_empty() {
                let _ = write!(out, "\\u{:04x}", b);
            } else {
                out.push_str(escaped);
            }
        }
        out.push_str(s.get(plain..).unwrap_or_default());
        out.push('"');
    }
}

impl Value for JsonText {
    fn get(&self, _key: &str) -> Self {
        JsonText(String::new())
    }
    fn is_object(&self) -> bool {
        false
    }
    fn is_absent(&self) -> bool {
        true
    }
    fn as_string(&self) -> Option<String> {
        None
    }
    fn as_bool(&self) -> Option<bool> {
        None
    }
    fn as_safe_integer(&self) -> Option<i64> {
        None
    }
    fn read_items<T, C: FromIterator<T>>(
        &self,
        _read: impl FnMut(&Self) -> Result<T, Unreadable>,
    ) -> Option<Result<C, Unreadable>> {
        None
    }

    #[inline(never)]
    fn string(s: &str) -> Self {
        let mut out = String::with_capacity(s.len() + 2);
        Self::quote(&mut out, s);
        JsonText(out)
    }
    fn boolean(b: bool) -> Self {
        JsonText(if b { "true" } else { "false" }.to_owned())
    }
    #[inline(never)]
    fn integer(n: i64) -> Self {
        JsonText(n.to_string())
    }
    fn null() -> Self {
        JsonText("null".to_owned())
    }
    fn array(items: impl Iterator<Item = Self>) -> Self {
        let mut out = String::from("[");
        for item in items {
            Self::push_item(&mut out, item);
        }
        out.push(']');
        JsonText(out)
    }
    fn object() -> Self {
        JsonText("{}".to_owned())
    }
    #[inline(never)]
    fn set(&mut self, key: &str, value: Self) {
        let out = &mut self.0;
        // Made by `object`: ends in `}`, and holds members when longer than `{}`.
        if !out.ends_with('}') {
            return;
        }
        out.truncate(out.len() - 1);
        if out.len() > 1 {
            out.push(',');
        }
        Self::quote(out, key);
        out.push(':');
        out.push_str(&value.0);
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::JsonText;
    use crate::protocol::codec::Value;
    use serde_json::Value as Json;

    fn parsed(t: JsonText) -> Json {
        serde_json::from_str(&t.0).unwrap_or_else(|e| panic!("not JSON: {e}: {}", t.0))
    }

    #[test]
    fn test_json_text_quotes_every_string_json_can_carry() {
        for s in [
            "",
            "plain",
            "q\"b\\s/",
            "\n\r\t\u{0}\u{1f}\u{7f}",
            "中文 ¥ é",
            "😀",
        ] {
            assert_eq!(
                parsed(JsonText::string(s)),
                Json::String(s.to_owned()),
                "{s:?}"
            );
        }
    }

    #[test]
    fn test_json_text_builds_what_the_json_value_writer_builds() {
        let mut inner = JsonText::object();
        inner.set("n", JsonText::integer(-9_007_199_254_740_991));
        inner.set("b", JsonText::boolean(false));
        inner.set("none", JsonText::null());
        let mut outer = JsonText::object();
        outer.set("inner", inner);
        outer.set(
            "list",
            JsonText::array([JsonText::integer(1), JsonText::object()].into_iter()),
        );
        outer.set("empty", JsonText::array(std::iter::empty()));
        let mut want = Json::object();
        let mut w_inner = Json::object();
        w_inner.set("n", Json::integer(-9_007_199_254_740_991));
        w_inner.set("b", Json::boolean(false));
        w_inner.set("none", Json::null());
        want.set("inner", w_inner);
        want.set(
            "list",
            Json::array([Json::integer(1), Json::object()].into_iter()),
        );
        want.set("empty", Json::array(std::iter::empty()));
        assert_eq!(parsed(outer), want);
    }
}
