//! The MAC and working keys against `tests/acquirer/mac_vectors.json`, which pycryptodome wrote
//! (tests/acquirer/mac_vectors.py): the same keys and messages must give the same bytes here.

use super::*;
use serde_json::Value as Json;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/acquirer/mac_vectors.json"
);

fn vectors() -> Json {
    let text = std::fs::read_to_string(VECTORS).expect("tests/acquirer/mac_vectors.json");
    serde_json::from_str(&text).expect("JSON")
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

fn key(text: &str) -> DesKey {
    DesKey::new(unhex(text).try_into().expect("16 bytes"))
}

fn field(v: &Json, name: &str) -> String {
    v[name].as_str().expect(name).to_owned()
}

#[test]
fn mac_x919_agrees_with_pycryptodome_on_raw_bytes_and_x9_9s_published_vector() {
    let doc = vectors();
    let macs = doc["macs"].as_array().expect("macs");
    assert!(macs.iter().any(|v| v["mac"] == "70a30640cc76dd8b"));
    for v in macs {
        let mac = x919(&key(&field(v, "key")), &unhex(&field(v, "data")));
        assert_eq!(mac.to_vec(), unhex(&field(v, "mac")), "{}", v["name"]);
    }
}

#[test]
fn mac_the_working_key_comes_out_of_field_62_under_the_tmk_and_its_check_value_holds() {
    let doc = vectors();
    let tmk = key(&field(&doc, "tmk"));
    let answer = Message::new("0810".parse().unwrap())
        .with(62, Value::Bytes(unhex(&field(&doc, "field62"))));
    let mak = working_key(&tmk, &answer).expect("the MAK");
    assert_eq!(mak, key(&field(&doc, "mak")));
    assert_eq!(mak.check_value().to_vec(), unhex(&field(&doc, "mak_check")));

    let other = DesKey::new([0x5a; 16]);
    assert_eq!(working_key(&other, &answer), Err(KeyError::CheckValue));
    let mut damaged = unhex(&field(&doc, "field62"));
    damaged[25] ^= 1;
    let damaged = Message::new("0810".parse().unwrap()).with(62, Value::Bytes(damaged));
    assert_eq!(working_key(&tmk, &damaged), Err(KeyError::CheckValue));
    let short = Message::new("0810".parse().unwrap()).with(62, Value::Bytes(vec![0; 24]));
    assert_eq!(working_key(&tmk, &short), Err(KeyError::Layout(24)));
    let none = Message::new("0810".parse().unwrap());
    assert_eq!(working_key(&tmk, &none), Err(KeyError::Layout(0)));
}

#[test]
fn mac_every_frame_pycryptodome_signed_verifies_here_and_signing_it_again_gives_its_mac() {
    let doc = vectors();
    let spec = Spec::unionpay();
    let mak = key(&field(&doc, "mak"));
    let frames = doc["frames"].as_array().expect("frames");
    assert!(frames.len() >= 10, "one of each message that carries a MAC");
    for v in frames {
        let name = &v["name"];
        let frame = spec.decode(&unhex(&field(v, "hex"))).expect("decodes");
        assert!(verifies(&spec, &mak, &frame.message), "{name}");
        let mut bare = frame.message.clone();
        bare.fields.remove(&MAC_FIELD);
        let ours = signed(&spec, &mak, bare).expect("signs");
        assert_eq!(ours.bytes(MAC_FIELD), Some(&unhex(&field(v, "mac"))[..]));
        assert_eq!(ours, frame.message, "{name}");

        let mut tampered = frame.message.clone();
        tampered.fields.insert(11, Value::text("999999"));
        assert!(
            !verifies(&spec, &mak, &tampered),
            "{name}: field 11 changed"
        );
        assert!(!verifies(&spec, &DesKey::new([7; 16]), &frame.message));
    }
}

#[test]
fn mac_a_message_without_field_64_does_not_verify() {
    let spec = Spec::unionpay();
    let msg = Message::new("0210".parse().unwrap()).with(39, Value::text("00"));
    assert!(!verifies(&spec, &DesKey::new([1; 16]), &msg));
}

#[test]
fn mac_the_tmk_file_takes_32_hex_digits_and_never_quotes_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("tmk");
    std::fs::write(&good, "0123456789ABCDEFfedcba9876543210\n").unwrap();
    let tmk = DesKey::from_file(&good).unwrap();
    assert_eq!(tmk, key("0123456789abcdeffedcba9876543210"));
    assert_eq!(format!("{tmk:?}"), "DesKey(****)");

    let bad = dir.path().join("bad");
    std::fs::write(&bad, "0123456789abcdeffedcba987654321g").unwrap();
    let e = DesKey::from_file(&bad).unwrap_err();
    assert!(
        e.contains("32 hex digits") && !e.contains("0123456789"),
        "{e}"
    );
    let e = DesKey::from_file(&dir.path().join("missing")).unwrap_err();
    assert!(e.contains("cannot read"), "{e}");
}
