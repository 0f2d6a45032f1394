//! The golden vectors in `tests/acquirer/vectors.json`, written by pyiso8583 (an implementation
//! no one here wrote) as frame hex beside its decoded fields: each frame decodes to those fields,
//! and those fields encode to that frame, byte for byte.

mod support;

use serde_json::Value as Json;
use softpos_iso8583::{Frame, Kind, Message, Spec, Value};
use support::{hex, unhex};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/acquirer/vectors.json"
);

fn text<'a>(json: &'a Json, key: &str, name: &str) -> &'a str {
    json.get(key)
        .and_then(Json::as_str)
        .unwrap_or_else(|| panic!("{name}: no string {key:?}"))
}

fn array<const N: usize>(hex_text: &str, name: &str) -> [u8; N] {
    unhex(hex_text)
        .try_into()
        .unwrap_or_else(|_| panic!("{name}: {hex_text} is not {N} bytes"))
}

/// The frame the vector's fields describe: text for n/an/ans fields, hex for b fields.
fn described(spec: &Spec, vector: &Json, name: &str) -> Frame {
    let mti = text(vector, "mti", name)
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut message = Message::new(mti);
    let fields = vector
        .get("fields")
        .and_then(Json::as_object)
        .unwrap_or_else(|| panic!("{name}: no fields"));
    for (key, value) in fields {
        let field: u8 = key
            .parse()
            .unwrap_or_else(|_| panic!("{name}: field {key:?}"));
        let field_spec = spec
            .field(field)
            .unwrap_or_else(|| panic!("{name}: field {field} not in the table"));
        let value = value
            .as_str()
            .unwrap_or_else(|| panic!("{name}: field {field} is not a string"));
        let value = match field_spec.kind {
            Kind::B => Value::Bytes(unhex(value)),
            Kind::N | Kind::An | Kind::Ans => Value::Text(value.to_owned()),
        };
        message.fields.insert(field, value);
    }
    Frame {
        tpdu: array(text(vector, "tpdu", name), name),
        header: array(text(vector, "header", name), name),
        message,
    }
}

#[test]
fn every_golden_vector_decodes_to_its_fields_and_encodes_to_its_bytes() {
    let json: Json = serde_json::from_str(
        &std::fs::read_to_string(VECTORS)
            .expect("tests/acquirer/vectors.json is in the repository"),
    )
    .expect("vectors.json is JSON");
    let _: [u8; 5] = array(text(&json, "tpdu", "the file"), "the file");
    let _: [u8; 6] = array(text(&json, "header", "the file"), "the file");
    let vectors = json
        .get("vectors")
        .and_then(Json::as_array)
        .expect("a vectors array");
    assert!(!vectors.is_empty(), "no golden vectors");
    let spec = Spec::unionpay();
    let mut names = std::collections::BTreeSet::new();
    for vector in vectors {
        let name = text(vector, "name", "a vector");
        assert!(names.insert(name.to_owned()), "{name} twice");
        let wire = unhex(text(vector, "hex", name));
        let frame = described(&spec, vector, name);
        let decoded = spec.decode(&wire).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.tpdu, frame.tpdu, "{name}: tpdu");
        assert_eq!(decoded.header, frame.header, "{name}: header");
        assert_eq!(decoded.message.mti, frame.message.mti, "{name}: mti");
        assert_eq!(
            decoded.message.fields, frame.message.fields,
            "{name}: fields"
        );
        let encoded = spec
            .encode(&frame)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            hex(&encoded),
            hex(&wire),
            "{name}: our encoding of its fields"
        );
    }
}
