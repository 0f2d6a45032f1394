//! Properties over arbitrary input: every valid message of the table survives encode then
//! decode unchanged, and decoding any bytes at all returns instead of panicking (and what it
//! accepts, it would have written byte for byte).

use proptest::collection::vec;
use proptest::prelude::*;
use softpos_iso8583::{FieldSpec, Frame, Kind, Len, Message, Mti, Spec, Value};

fn value(spec: FieldSpec) -> BoxedStrategy<Value> {
    let len = match spec.len {
        Len::Fixed(n) => (n..=n).boxed(),
        Len::LlVar(max) | Len::LllVar(max) => (0..=max).boxed(),
    };
    match spec.kind {
        Kind::N => len
            .prop_flat_map(|n| {
                proptest::string::string_regex(&format!("[0-9]{{{n}}}")).expect("regex")
            })
            .prop_map(Value::Text)
            .boxed(),
        Kind::An => len
            .prop_flat_map(|n| {
                proptest::string::string_regex(&format!("[A-Za-z0-9 ]{{{n}}}")).expect("regex")
            })
            .prop_map(Value::Text)
            .boxed(),
        Kind::Ans => len
            .prop_flat_map(|n| {
                proptest::string::string_regex(&format!("[ -~]{{{n}}}")).expect("regex")
            })
            .prop_map(Value::Text)
            .boxed(),
        Kind::B => len
            .prop_flat_map(|n| vec(any::<u8>(), n))
            .prop_map(Value::Bytes)
            .boxed(),
    }
}

fn message() -> impl Strategy<Value = Message> {
    let spec = Spec::unionpay();
    let fields: Vec<(u8, FieldSpec)> = spec.fields().collect();
    let field_count = fields.len();
    let chosen = proptest::sample::subsequence(fields, 0..=field_count);
    (0u16..=9999, chosen).prop_flat_map(|(mti, chosen)| {
        let values: Vec<_> = chosen
            .into_iter()
            .map(|(n, spec)| value(spec).prop_map(move |v| (n, v)))
            .collect();
        values.prop_map(move |pairs| Message {
            mti: Mti::new(mti).expect("<= 9999"),
            fields: pairs.into_iter().collect(),
        })
    })
}

fn frame() -> impl Strategy<Value = Frame> {
    (any::<[u8; 5]>(), any::<[u8; 6]>(), message()).prop_map(|(tpdu, header, message)| Frame {
        tpdu,
        header,
        message,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decode_after_encode_is_the_identity(frame in frame()) {
        let spec = Spec::unionpay();
        let wire = spec.encode(&frame).expect("valid by construction");
        prop_assert_eq!(softpos_iso8583::frame_len([wire[0], wire[1]]), wire.len() - 2);
        prop_assert_eq!(spec.decode(&wire).expect("decodes"), frame);
    }

    #[test]
    fn decode_never_panics_on_any_bytes(bytes in vec(any::<u8>(), 0..600)) {
        let spec = Spec::unionpay();
        if let Ok(frame) = spec.decode(&bytes) {
            prop_assert_eq!(spec.encode(&frame).expect("re-encodes"), bytes);
        }
    }

    /// Random bytes seldom get past the length prefix; a valid frame with one byte changed or
    /// cut short reaches every field's decoding.
    #[test]
    fn decode_never_panics_on_a_damaged_frame(
        frame in frame(),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        let spec = Spec::unionpay();
        let mut wire = spec.encode(&frame).expect("valid");
        let i = at.index(wire.len());
        if cut {
            // Cut short with the length prefix made to agree, so decoding runs into the fields.
            wire.truncate(i.max(2));
            let len = u16::try_from(wire.len() - 2).expect("short").to_be_bytes();
            wire[..2].copy_from_slice(&len);
        } else {
            wire[i] = byte;
        }
        if let Ok(back) = spec.decode(&wire) {
            prop_assert_eq!(spec.encode(&back).expect("re-encodes"), wire);
        }
    }
}
