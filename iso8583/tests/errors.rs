//! One test per way a frame or a message is refused: each names the field and the reason.

mod support;

use softpos_iso8583::{
    DecodeError, DecodeReason, EncodeError, EncodeReason, FieldSpec, Frame, Len, Message, Spec,
    Value,
};
use support::{mti, t, unhex, HEADER, TPDU};

/// TPDU, header, MTI 0200, then this bitmap and field bytes; the length prefix set to match.
fn frame(bitmap: &str, fields: &str) -> Vec<u8> {
    let body = unhex(&format!("6000030000 603100000000 0200 {bitmap} {fields}"));
    let mut wire = u16::try_from(body.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    wire.extend(body);
    wire
}

fn decode_err(bytes: &[u8]) -> DecodeError {
    Spec::unionpay().decode(bytes).expect_err("refused")
}

/// Field 3 and 4 present: 30 00 00 00 … in the first bitmap byte.
const F3_F4: &str = "3000000000000000";

#[test]
fn decode_accepts_the_well_formed_frame_these_tests_break() {
    let ok = Spec::unionpay()
        .decode(&frame(F3_F4, "000000 000000001000"))
        .expect("valid");
    assert_eq!(ok.message.text(4), Some("000000001000"));
}

#[test]
fn decode_short_names_the_field_and_what_was_left() {
    let err = decode_err(&frame(F3_F4, "000000 000000"));
    assert_eq!(err.field, Some(4));
    assert_eq!(err.reason, DecodeReason::Short { needed: 6, left: 3 });
    assert_eq!(err.to_string(), "field 4: expected 6 bytes, 3 left");
    assert_eq!(
        decode_err(&[0x00]).reason,
        DecodeReason::Short { needed: 2, left: 1 }
    );
    assert_eq!(
        decode_err(&unhex("0003 600003")).reason,
        DecodeReason::Short { needed: 5, left: 3 }
    );
}

#[test]
fn decode_length_mismatch_is_refused() {
    let mut wire = frame(F3_F4, "000000 000000001000");
    wire[1] += 1;
    let err = decode_err(&wire);
    assert_eq!(
        (err.field, err.reason),
        (
            None,
            DecodeReason::LengthMismatch {
                prefix: 31,
                actual: 30
            }
        )
    );
    let mut longer = frame(F3_F4, "000000 000000001000");
    longer.push(0);
    assert_eq!(
        decode_err(&longer).reason,
        DecodeReason::LengthMismatch {
            prefix: 30,
            actual: 31
        }
    );
}

#[test]
fn decode_trailing_bytes_are_refused() {
    let err = decode_err(&frame(F3_F4, "000000 000000001000 00"));
    assert_eq!(
        (err.field, err.reason),
        (None, DecodeReason::TrailingBytes(1))
    );
    assert_eq!(err.to_string(), "frame: 1 bytes after the last field");
}

#[test]
fn decode_secondary_bitmap_is_refused() {
    let err = decode_err(&frame(
        "b000000000000000",
        "0000000000000000 000000 000000001000",
    ));
    assert_eq!(
        (err.field, err.reason),
        (None, DecodeReason::SecondaryBitmap)
    );
}

#[test]
fn decode_field_outside_the_table_is_refused() {
    // Field 5 (settlement amount) is not in the UnionPay table.
    let err = decode_err(&frame(
        "3800000000000000",
        "000000 000000001000 000000001000",
    ));
    assert_eq!(
        (err.field, err.reason),
        (Some(5), DecodeReason::UnknownField)
    );
}

#[test]
fn decode_non_bcd_nibbles_are_refused() {
    let err = decode_err(&frame(F3_F4, "00000a 000000001000"));
    assert_eq!((err.field, err.reason), (Some(3), DecodeReason::NotBcd));
    let mut bad_mti = frame(F3_F4, "000000 000000001000");
    bad_mti[13] = 0x0f;
    assert_eq!(
        decode_err(&bad_mti),
        DecodeError {
            field: None,
            reason: DecodeReason::NotBcd
        }
    );
    // An LL prefix is BCD too.
    let err = decode_err(&frame("4000000000000000", "1a 6222021234"));
    assert_eq!((err.field, err.reason), (Some(2), DecodeReason::NotBcd));
}

#[test]
fn decode_pad_nibble_other_than_zero_is_refused() {
    // Field 22 n3, left-aligned: `012` is `01 20`; `01 2f` has an F pad.
    let err = decode_err(&frame("0000040000000000", "012f"));
    assert_eq!(
        (err.field, err.reason),
        (Some(22), DecodeReason::PadNotZero)
    );
    // Field 2 with 19 digits: the last nibble is the pad.
    let err = decode_err(&frame("4000000000000000", "19 6222021234567890123f"));
    assert_eq!((err.field, err.reason), (Some(2), DecodeReason::PadNotZero));
}

#[test]
fn decode_length_over_the_maximum_is_refused() {
    let err = decode_err(&frame("4000000000000000", "20 62220212345678901234"));
    assert_eq!(
        (err.field, err.reason),
        (Some(2), DecodeReason::TooLong { len: 20, max: 19 })
    );
    // 60 is n..019 behind an LLL prefix.
    let err = decode_err(&frame("0000000000000010", "0020 00000000000000000000"));
    assert_eq!(
        (err.field, err.reason),
        (Some(60), DecodeReason::TooLong { len: 20, max: 19 })
    );
}

#[test]
fn decode_text_outside_its_kind_is_refused() {
    // Field 39 an2 holding a NUL; field 41 ans8 holding a byte above ASCII.
    let err = decode_err(&frame("0000000002000000", "3000"));
    assert_eq!((err.field, err.reason), (Some(39), DecodeReason::BadText));
    let err = decode_err(&frame("0000000000800000", "31303030303030e9"));
    assert_eq!((err.field, err.reason), (Some(41), DecodeReason::BadText));
}

fn encode_err(fields: Vec<(u8, Value)>) -> EncodeError {
    let mut message = Message::new(mti("0200"));
    message.fields.extend(fields);
    Spec::unionpay()
        .encode(&Frame {
            tpdu: TPDU,
            header: HEADER,
            message,
        })
        .expect_err("refused")
}

#[test]
fn encode_field_outside_the_table_is_refused() {
    assert_eq!(
        encode_err(vec![(5, t("000000001000"))]),
        EncodeError {
            field: Some(5),
            reason: EncodeReason::UnknownField
        }
    );
    assert_eq!(
        encode_err(vec![(1, Value::Bytes(vec![0; 8]))]).reason,
        EncodeReason::UnknownField
    );
    assert_eq!(encode_err(vec![(65, t("0"))]).field, Some(65));
    assert_eq!(encode_err(vec![(0, t("0"))]).field, Some(0));
}

#[test]
fn encode_wrong_value_kind_is_refused() {
    assert_eq!(
        encode_err(vec![(62, t("keys"))]),
        EncodeError {
            field: Some(62),
            reason: EncodeReason::WrongValue
        }
    );
    assert_eq!(
        encode_err(vec![(4, Value::Bytes(vec![1]))]).reason,
        EncodeReason::WrongValue
    );
}

#[test]
fn encode_non_digits_in_an_n_field_are_refused() {
    let err = encode_err(vec![(4, t("00000000100x"))]);
    assert_eq!((err.field, err.reason), (Some(4), EncodeReason::NotDigits));
    assert_eq!(err.to_string(), "field 4: an n field holds only digits");
}

#[test]
fn encode_text_outside_its_kind_is_refused() {
    assert_eq!(
        encode_err(vec![(39, t("0-"))]).reason,
        EncodeReason::BadText
    );
    assert_eq!(
        encode_err(vec![(41, t("1000000é"))]).reason,
        EncodeReason::BadText
    );
}

#[test]
fn encode_fixed_field_of_the_wrong_length_is_refused() {
    let err = encode_err(vec![(4, t("1000"))]);
    assert_eq!(
        (err.field, err.reason),
        (
            Some(4),
            EncodeReason::WrongLength {
                len: 4,
                expected: 12
            }
        )
    );
}

#[test]
fn encode_variable_field_over_its_maximum_is_refused() {
    let err = encode_err(vec![(2, t("62220212345678901234"))]);
    assert_eq!(
        (err.field, err.reason),
        (Some(2), EncodeReason::TooLong { len: 20, max: 19 })
    );
    assert_eq!(
        encode_err(vec![(62, Value::Bytes(vec![0; 513]))]).reason,
        EncodeReason::TooLong { len: 513, max: 512 }
    );
}

#[test]
fn encode_frame_over_the_length_prefix_is_refused() {
    let spec = Spec::from_table(&[(48, FieldSpec::b(Len::Fixed(70_000)))]).expect("table");
    let message = Message::new(mti("0200")).with(48, Value::Bytes(vec![0; 70_000]));
    let err = spec
        .encode(&Frame {
            tpdu: TPDU,
            header: HEADER,
            message,
        })
        .expect_err("too long");
    assert_eq!(
        (err.field, err.reason),
        (None, EncodeReason::FrameTooLong(70_021))
    );
}

#[test]
fn a_table_that_is_not_one_is_refused() {
    let bad = |field, spec| {
        Spec::from_table(&[(field, spec)])
            .map(|_| ())
            .map_err(|e| e.reason)
    };
    assert!(bad(1, FieldSpec::n(Len::Fixed(2))).is_err());
    assert!(bad(65, FieldSpec::n(Len::Fixed(2))).is_err());
    assert!(bad(3, FieldSpec::n(Len::Fixed(0))).is_err());
    assert!(bad(3, FieldSpec::ans(Len::LlVar(100))).is_err());
    assert!(bad(3, FieldSpec::ans(Len::LllVar(1000))).is_err());
    assert_eq!(bad(3, FieldSpec::ans(Len::LllVar(999))), Ok(()));
    let twice = [
        (3, FieldSpec::n(Len::Fixed(6))),
        (3, FieldSpec::n(Len::Fixed(4))),
    ];
    assert_eq!(
        Spec::from_table(&twice).map_err(|e| e.to_string()),
        Err("field 3: listed twice".into())
    );
}

#[test]
fn another_dialect_is_another_table() {
    // A dialect whose field 22 is right-aligned and whose field 5 exists.
    let spec = Spec::from_table(&[
        (5, FieldSpec::n(Len::Fixed(12))),
        (22, FieldSpec::n(Len::Fixed(3))),
    ])
    .expect("table");
    let message = Message::new(mti("0200"))
        .with(5, t("000000000001"))
        .with(22, t("012"));
    let frame = Frame {
        tpdu: TPDU,
        header: HEADER,
        message,
    };
    let wire = spec.encode(&frame).expect("encode");
    assert_eq!(&wire[wire.len() - 2..], &[0x00, 0x12]);
    assert_eq!(spec.decode(&wire).expect("decode"), frame);
    assert!(Spec::unionpay().decode(&wire).is_err());
}
