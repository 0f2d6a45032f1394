//! `serde_json::Value` as the browser's `JsValue` would be after `JSON.parse`, so the codec the
//! browser ships can be run, tested and fuzzed natively against serde.

use super::{Unreadable, Value};
use serde_json::{Map, Value as Json};

/// 2^53 − 1, JavaScript's `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE: i64 = (1 << 53) - 1;

impl Value for Json {
    fn get(&self, key: &str) -> Self {
        match self {
            Json::Object(map) => map.get(key).cloned().unwrap_or(Json::Null),
            _ => Json::Null,
        }
    }
    fn is_object(&self) -> bool {
        matches!(self, Json::Object(_) | Json::Array(_))
    }
    fn is_absent(&self) -> bool {
        self.is_null()
    }
    fn as_string(&self) -> Option<String> {
        self.as_str().map(str::to_owned)
    }
    fn as_bool(&self) -> Option<bool> {
        Json::as_bool(self)
    }
    fn as_safe_integer(&self) -> Option<i64> {
        let Json::Number(n) = self else {
            return None;
        };
        // JSON.parse makes a double of every number: `1.0` and `1e2` are integers there.
        let n = match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() == 0.0 && f.abs() <= MAX_SAFE as f64 => f as i64,
            _ => return None,
        };
        (-MAX_SAFE..=MAX_SAFE).contains(&n).then_some(n)
    }
    fn read_items<T, C: FromIterator<T>>(
        &self,
        read: impl FnMut(&Self) -> Result<T, Unreadable>,
    ) -> Option<Result<C, Unreadable>> {
        self.as_array()
            .map(|items| items.iter().map(read).collect())
    }

    fn string(s: &str) -> Self {
        Json::String(s.to_owned())
    }
    fn boolean(b: bool) -> Self {
        Json::Bool(b)
    }
    fn integer(n: i64) -> Self {
        Json::from(n)
    }
    fn null() -> Self {
        Json::Null
    }
    fn array(items: impl Iterator<Item = Self>) -> Self {
        Json::Array(items.collect())
    }
    fn object() -> Self {
        Json::Object(Map::new())
    }
    fn set(&mut self, key: &str, value: Self) {
        if let Json::Object(map) = self {
            map.insert(key.to_owned(), value);
        }
    }
}
