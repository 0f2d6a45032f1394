//! The codec the browser ships: every wire and storage shape read from and written to plain
//! values, without serde in the module.
//!
//! serde stays the definition the host speaks. The browser cannot afford it: the serde data
//! model, serde_wasm_bindgen and the float formatting its error messages pull in cost about
//! 40 KB of the gzipped module, a third of it. So each shape's reader and writer are generated
//! by the same declaration as its serde type ([`wire!`](crate::protocol)), generic over a
//! [`Value`]: in the browser `JsValue` to read (src/wasm/codec.rs) and JSON text to write
//! ([`text`], then `JSON.parse` or the request body as it is), `serde_json::Value` natively
//! ([`json`]), so the fuzz target `fuzz/fuzz_targets/codec_vs_serde.rs` runs the very reader the
//! browser ships against serde's answer.

#[cfg(not(target_arch = "wasm32"))]
pub mod differential;
pub mod json;
mod terminal;
pub mod text;

pub(crate) use terminal::TYPESCRIPT;

use std::collections::VecDeque;

/// Why a value could not be read: the innermost field that did not fit its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreadable(pub &'static str);

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            "" => f.write_str("the value is not of the expected type"),
            name => write!(f, "field `{name}` is missing or of the wrong type"),
        }
    }
}

/// The value does not fit; the struct reader around it names the field.
pub const BAD: Unreadable = Unreadable("");

/// A plain value as `JSON.parse` makes it: what the codec reads and writes.
pub trait Value: Sized {
    /// The member `key` of an object; absent (as `undefined`) when there is none.
    fn get(&self, key: &str) -> Self;
    /// An object (arrays are objects too, as `typeof` says; their fields are absent).
    fn is_object(&self) -> bool;
    /// `null` or absent: what serde reads as `None`.
    fn is_absent(&self) -> bool;
    /// The string, if it is one.
    fn as_string(&self) -> Option<String>;
    /// The boolean, if it is one.
    fn as_bool(&self) -> Option<bool>;
    /// A number that is an integer JSON carries exactly (|n| < 2^53), as `Number.isSafeInteger`.
    fn as_safe_integer(&self) -> Option<i64>;
    /// Every item read with `read`, if it is an array.
    fn read_items<T, C: FromIterator<T>>(
        &self,
        read: impl FnMut(&Self) -> Result<T, Unreadable>,
    ) -> Option<Result<C, Unreadable>>;

    /// A string.
    fn string(s: &str) -> Self;
    /// A boolean.
    fn boolean(b: bool) -> Self;
    /// An integer (every one the terminal keeps is far below 2^53: R3 caps amounts).
    fn integer(n: i64) -> Self;
    /// `null`.
    fn null() -> Self;
    /// An array of the items.
    fn array(items: impl Iterator<Item = Self>) -> Self;
    /// An empty object.
    fn object() -> Self;
    /// Sets a member of an object made by [`Value::object`].
    fn set(&mut self, key: &str, value: Self);
}

/// Reads a type from a plain value.
pub trait Decode: Sized {
    /// `Unreadable("")` when the value itself does not fit; structs name the field.
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable>;

    /// A stand-in the struct reader puts in a field that did not fit, so it can go on with the
    /// next field and report the first misfit at the end. Never handed out: a struct with a
    /// stand-in in it is dropped and its reader returns the error.
    fn stand_in() -> Self;
}

/// Writes a type as the plain value `JSON.parse` would make of its serde JSON.
pub trait Encode {
    /// The value, snake_case keys as on the wire.
    fn encode<V: Value>(&self) -> V;
}

/// Reads one field, naming it when the value inside does not fit.
pub fn field<T: Decode, V: Value>(obj: &V, key: &'static str) -> Result<T, Unreadable> {
    T::decode(&obj.get(key)).map_err(|e| if e.0.is_empty() { Unreadable(key) } else { e })
}

/// Reads one field of a struct being built; on a misfit, notes the first one in `first` and
/// gives a stand-in. Why not `?` per field: every early return must drop the fields read
/// before it, and for the 17-field journal entry that cleanup code was most of the reader.
/// Built this way a struct reader is one call per field and one check at the end.
#[inline(never)]
pub(crate) fn field_into<T: Decode, V: Value>(
    obj: &V,
    key: &'static str,
    first: &mut Option<Unreadable>,
) -> T {
    match T::decode(&obj.get(key)) {
        Ok(v) => v,
        Err(e) => {
            note_misfit(first, key, e);
            T::stand_in()
        }
    }
}

/// The misfit part of [`field_into`], once for every field type rather than once per type.
#[inline(never)]
fn note_misfit(first: &mut Option<Unreadable>, key: &'static str, e: Unreadable) {
    first.get_or_insert(if e.0.is_empty() { Unreadable(key) } else { e });
}

impl Decode for String {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        v.as_string().ok_or(BAD)
    }
    fn stand_in() -> Self {
        String::new()
    }
}
impl Encode for String {
    fn encode<V: Value>(&self) -> V {
        V::string(self)
    }
}
impl Decode for bool {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        v.as_bool().ok_or(BAD)
    }
    fn stand_in() -> Self {
        false
    }
}
impl Encode for bool {
    fn encode<V: Value>(&self) -> V {
        V::boolean(*self)
    }
}

macro_rules! integer {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
                <$t>::try_from(v.as_safe_integer().ok_or(BAD)?).map_err(|_| BAD)
            }
            fn stand_in() -> Self {
                0
            }
        }
        impl Encode for $t {
            fn encode<V: Value>(&self) -> V {
                // Every value the terminal keeps in these is far below 2^53 (R3 caps amounts).
                V::integer(*self as i64)
            }
        }
    )*};
}
integer!(u32, u64, i64, i32, usize);

/// `null` or absent is `None`, as serde reads an `Option` field.
/// A boxed field reads and writes as its content: boxing only keeps a rarely large field from
/// growing every value that carries it.
impl<T: Decode> Decode for Box<T> {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        T::decode(v).map(Box::new)
    }
    fn stand_in() -> Self {
        Box::new(T::stand_in())
    }
}
impl<T: Encode> Encode for Box<T> {
    fn encode<V: Value>(&self) -> V {
        (**self).encode()
    }
}
impl<T: Decode> Decode for Option<T> {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        if v.is_absent() {
            Ok(None)
        } else {
            T::decode(v).map(Some)
        }
    }
    fn stand_in() -> Self {
        None
    }
}
impl<T: Encode> Encode for Option<T> {
    fn encode<V: Value>(&self) -> V {
        self.as_ref().map_or_else(V::null, Encode::encode)
    }
}

fn array<T: Decode, C: FromIterator<T>, V: Value>(v: &V) -> Result<C, Unreadable> {
    v.read_items(T::decode).ok_or(BAD)?
}
impl<T: Decode> Decode for Vec<T> {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        array(v)
    }
    fn stand_in() -> Self {
        Vec::new()
    }
}
impl<T: Encode> Encode for Vec<T> {
    fn encode<V: Value>(&self) -> V {
        V::array(self.iter().map(Encode::encode))
    }
}
impl<T: Decode> Decode for VecDeque<T> {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        array(v)
    }
    fn stand_in() -> Self {
        VecDeque::new()
    }
}
impl<T: Encode> Encode for VecDeque<T> {
    fn encode<V: Value>(&self) -> V {
        V::array(self.iter().map(Encode::encode))
    }
}

/// A struct as an object of its fields, for the types declared elsewhere (the terminal's
/// persisted state): the fields after `;` are left out when `None`, as
/// `skip_serializing_if = "Option::is_none"` does.
macro_rules! codec_struct {
    ($t:ty { $($f:ident),* $(,)? } $(; $($skip:ident),*)?) => {
        impl $crate::protocol::codec::Decode for $t {
            fn decode<V: $crate::protocol::codec::Value>(
                v: &V,
            ) -> Result<Self, $crate::protocol::codec::Unreadable> {
                if !v.is_object() {
                    return Err($crate::protocol::codec::BAD);
                }
                let mut first = None;
                let out = Self {
                    $($f: $crate::protocol::codec::field_into(v, stringify!($f), &mut first),)*
                    $($($skip: $crate::protocol::codec::field_into(v, stringify!($skip), &mut first),)*)?
                };
                first.map_or(Ok(out), Err)
            }
            fn stand_in() -> Self {
                Self {
                    $($f: $crate::protocol::codec::Decode::stand_in(),)*
                    $($($skip: None,)*)?
                }
            }
        }
        impl $crate::protocol::codec::Encode for $t {
            fn encode<V: $crate::protocol::codec::Value>(&self) -> V {
                let mut o = V::object();
                $(o.set(stringify!($f), self.$f.encode());)*
                $($(if let Some(x) = &self.$skip {
                    o.set(stringify!($skip), x.encode());
                })*)?
                o
            }
        }
    };
}
pub(crate) use codec_struct;

/// Which of `names` the value is: one loop that every enum's reader shares.
#[inline(never)]
pub(crate) fn variant<V: Value>(v: &V, names: &[&str]) -> Option<usize> {
    let name = v.as_string()?;
    names.iter().position(|n| *n == name)
}

/// A unit enum as its wire name.
macro_rules! codec_enum {
    ($t:ident { $first:ident = $first_name:literal $(, $v:ident = $name:literal)* $(,)? }) => {
        impl $crate::protocol::codec::Decode for $t {
            fn decode<V: $crate::protocol::codec::Value>(
                v: &V,
            ) -> Result<Self, $crate::protocol::codec::Unreadable> {
                const ALL: &[$t] = &[$t::$first $(, $t::$v)*];
                $crate::protocol::codec::variant(v, &[$first_name $(, $name)*])
                    .and_then(|i| ALL.get(i).copied())
                    .ok_or($crate::protocol::codec::BAD)
            }
            fn stand_in() -> Self {
                $t::$first
            }
        }
        impl $crate::protocol::codec::Encode for $t {
            fn encode<V: $crate::protocol::codec::Value>(&self) -> V {
                V::string(match self {
                    $t::$first => $first_name,
                    $($t::$v => $name,)*
                })
            }
        }
    };
}
pub(crate) use codec_enum;
