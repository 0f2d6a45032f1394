//! One declaration per wire shape: [`wire!`] emits the serde type (with its OpenAPI schema),
//! the browser codec's reader and writer, and the TypeScript declaration that lands in
//! `pkg/softpos.d.ts`.
//!
//! The TypeScript is built at compile time ([`Ts`], a fixed buffer that `const fn`s fill) and
//! handed to wasm-bindgen's `typescript_custom_section`, so `wasm-bindgen` writes it into the
//! `.d.ts` on every build, with no generator step to forget, and nothing of it reaches the
//! shipped module (the section is read and dropped by wasm-bindgen). Keys are camelCase there:
//! the JS API hands every shape out camelized (`to_js` in src/wasm/js.rs).

/// Room for the longest declaration (the journal entry's, about 500 bytes); a longer one is a
/// compile error, not a truncation.
const CAP: usize = 1024;

/// TypeScript text built in a `const`.
#[derive(Clone, Copy)]
pub struct Ts {
    buf: [u8; CAP],
    len: usize,
}

impl Ts {
    /// Empty.
    pub const fn new() -> Ts {
        Ts {
            buf: [0; CAP],
            len: 0,
        }
    }

    /// With `s` appended.
    pub const fn push(self, s: &str) -> Ts {
        self.push_bytes(s.as_bytes(), false)
    }

    /// With `other` appended.
    pub const fn push_ts(self, other: &Ts) -> Ts {
        self.push_bytes(other.buf.split_at(other.len).0, false)
    }

    /// With the snake_case name appended in camelCase, as the JS API spells keys.
    pub const fn push_camel(self, snake: &str) -> Ts {
        self.push_bytes(snake.as_bytes(), true)
    }

    const fn push_bytes(mut self, bytes: &[u8], camel: bool) -> Ts {
        let mut i = 0;
        let mut upper = false;
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            if camel && b == b'_' {
                upper = true;
                continue;
            }
            // Past CAP this indexes out of bounds: in a const that is a compile error.
            self.buf[self.len] = if upper { b.to_ascii_uppercase() } else { b };
            self.len += 1;
            upper = false;
        }
        self
    }

    /// The text (only ASCII and whole UTF-8 strings are ever appended).
    pub const fn as_str(&self) -> &str {
        match core::str::from_utf8(self.buf.split_at(self.len).0) {
            Ok(s) => s,
            Err(_) => "",
        }
    }
}

impl Default for Ts {
    fn default() -> Self {
        Ts::new()
    }
}

/// How a field of this type is written in TypeScript.
pub trait TsRef {
    /// `string`, `number`, `BatchTotals | null`, …
    const TS: Ts;
}

/// A type with a declaration of its own in `softpos.d.ts`.
pub trait Declared {
    /// `export interface Totals { count: number; amount: number; }`, …
    const DECLARATION: Ts;
}

macro_rules! ts_primitive {
    ($($t:ty => $ts:literal),*) => {$(
        impl TsRef for $t {
            const TS: Ts = Ts::new().push($ts);
        }
    )*};
}
ts_primitive!(String => "string", bool => "boolean", u32 => "number", u64 => "number",
    i64 => "number", i32 => "number", usize => "number");

impl<T: TsRef> TsRef for Option<T> {
    const TS: Ts = T::TS.push(" | null");
}
impl<T: TsRef> TsRef for Box<T> {
    const TS: Ts = T::TS;
}
impl<T: TsRef> TsRef for Vec<T> {
    const TS: Ts = T::TS.push("[]");
}

/// The declaration of `$t` as a `&'static str`.
macro_rules! declaration {
    ($t:ty) => {{
        const D: &$crate::protocol::shape::Ts =
            &<$t as $crate::protocol::shape::Declared>::DECLARATION;
        D.as_str()
    }};
}
pub(crate) use declaration;

/// Puts the declaration of `$t` into `softpos.d.ts` (wasm builds only: the section is
/// wasm-bindgen's).
macro_rules! typescript_section {
    ($($t:ty),* $(,)?) => {$(
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            #[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
            const TS: &str = $crate::protocol::shape::declaration!($t);
        };
    )*};
}
pub(crate) use typescript_section;

/// The TypeScript of a struct: required fields, then the ones left out when `None`.
macro_rules! ts_interface {
    ($name:ident [$($f:ident: $ty:ty),*] [$($o:ident: $oty:ty),*]) => {
        impl $crate::protocol::shape::TsRef for $name {
            const TS: $crate::protocol::shape::Ts =
                $crate::protocol::shape::Ts::new().push(stringify!($name));
        }
        impl $crate::protocol::shape::Declared for $name {
            const DECLARATION: $crate::protocol::shape::Ts = $crate::protocol::shape::Ts::new()
                .push("export interface ")
                .push(stringify!($name))
                .push(" {")
                $(.push(" ").push_camel(stringify!($f)).push(": ")
                    .push_ts(&<$ty as $crate::protocol::shape::TsRef>::TS).push(";"))*
                $(.push(" ").push_camel(stringify!($o)).push("?: ")
                    .push_ts(&<$oty as $crate::protocol::shape::TsRef>::TS).push(";"))*
                .push(" }");
        }
    };
}
pub(crate) use ts_interface;

/// The TypeScript of a unit enum: the union of its wire names.
macro_rules! ts_union {
    ($name:ident [$first:literal $(, $s:literal)*]) => {
        impl $crate::protocol::shape::TsRef for $name {
            const TS: $crate::protocol::shape::Ts =
                $crate::protocol::shape::Ts::new().push(stringify!($name));
        }
        impl $crate::protocol::shape::Declared for $name {
            const DECLARATION: $crate::protocol::shape::Ts = $crate::protocol::shape::Ts::new()
                .push("export type ")
                .push(stringify!($name))
                .push(" = \"")
                .push($first)
                $(.push("\" | \"").push($s))*
                .push("\";");
        }
    };
}
pub(crate) use ts_union;

/// Codec and TypeScript for structs declared elsewhere (the terminal's results), from one
/// list of each one's fields and their types; the compiler holds the list to the struct.
/// Emits `TYPESCRIPT`, their declarations.
macro_rules! shapes {
    ($($name:ident { $($f:ident: $ty:ty),* $(,)? })*) => {
        $(
            $crate::protocol::codec::codec_struct!($name { $($f),* });
            $crate::protocol::shape::ts_interface!($name [$($f: $ty),*] []);
            const _: () = {
                #[allow(dead_code)]
                fn types_match(v: &$name) {
                    $(let _: &$ty = &v.$f;)*
                }
            };
            $crate::protocol::shape::typescript_section!($name);
        )*
        /// The TypeScript declarations of the shapes above, as `softpos.d.ts` carries them.
        pub(crate) const TYPESCRIPT: &[&str] = &[$($crate::protocol::shape::declaration!($name)),*];
    };
}
pub(crate) use shapes;

/// The wire shapes, each declared once. A struct's fields after `;` are left out when `None`
/// (`skip_serializing_if`), and read as `None` when absent; an enum's variants carry their
/// wire names. Emits each type with its serde derives and OpenAPI schema, its codec
/// ([`Decode`](crate::protocol::codec::Decode), [`Encode`](crate::protocol::codec::Encode)),
/// its TypeScript, and `TYPESCRIPT`, the declarations of the block.
macro_rules! wire {
    ($($(#[$m:meta])* pub $kind:ident $name:ident { $($body:tt)* })*) => {
        $($crate::protocol::shape::wire!(@ $kind [$(#[$m])*] $name { $($body)* });)*
        /// The TypeScript declarations of the shapes above, as `softpos.d.ts` carries them.
        pub(crate) const TYPESCRIPT: &[&str] = &[$($crate::protocol::shape::declaration!($name)),*];
    };
    (@ struct [$(#[$m:meta])*] $name:ident {
        $($(#[$fm:meta])* pub $f:ident: $ty:ty),* $(,)?
        $(; $($(#[$om:meta])* pub $o:ident: $oty:ty),* $(,)?)?
    }) => {
        #[derive(serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        $(#[$m])*
        pub struct $name {
            $($(#[$fm])* pub $f: $ty,)*
            $($($(#[$om])*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub $o: $oty,)*)?
        }
        $crate::protocol::codec::codec_struct!($name { $($f),* } $(; $($o),*)?);
        $crate::protocol::shape::ts_interface!($name [$($f: $ty),*] [$($($o: $oty),*)?]);
        $crate::protocol::shape::typescript_section!($name);
    };
    (@ enum [$(#[$m:meta])*] $name:ident {
        $(#[$vm0:meta])* $v0:ident = $s0:tt $(, $(#[$vm:meta])* $v:ident = $s:tt)* $(,)?
    }) => {
        #[derive(serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        $(#[$m])*
        pub enum $name {
            $(#[$vm0])* #[serde(rename = $s0)] $v0,
            $($(#[$vm])* #[serde(rename = $s)] $v,)*
        }
        impl $name {
            const ALL: &'static [$name] = &[$name::$v0 $(, $name::$v)*];
            const NAMES: &'static [&'static str] = &[$s0 $(, $s)*];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                // Declared above without discriminants: a variant's is its place in NAMES.
                Self::NAMES.get(self as usize).copied().unwrap_or_default()
            }
        }
        impl $crate::protocol::codec::Decode for $name {
            fn decode<V: $crate::protocol::codec::Value>(
                v: &V,
            ) -> Result<Self, $crate::protocol::codec::Unreadable> {
                $crate::protocol::codec::variant(v, Self::NAMES)
                    .and_then(|i| Self::ALL.get(i).copied())
                    .ok_or($crate::protocol::codec::BAD)
            }
            fn stand_in() -> Self {
                $name::$v0
            }
        }
        impl $crate::protocol::codec::Encode for $name {
            fn encode<V: $crate::protocol::codec::Value>(&self) -> V {
                V::string(self.as_str())
            }
        }
        $crate::protocol::shape::ts_union!($name [$s0 $(, $s)*]);
        $crate::protocol::shape::typescript_section!($name);
    };
}
pub(crate) use wire;
