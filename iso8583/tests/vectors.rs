//! Frames written out by hand from the profile, byte for byte: a layout mistake in the table or
//! the codec (a prefix counting bytes instead of digits, a pad nibble on the wrong side, a bitmap
//! bit off by one) fails here.

mod support;

use softpos_iso8583::{Frame, Message, Spec, Value};
use support::{hex, mti, t, unhex, HEADER};

/// The sale of the crate docs: 10.00 CNY, PAN of 19 digits, trace 000123, batch 000001.
const SALE_0200: &str = "
    0051
    6000030000 603100000000
    0200
    7024048000c08010
    19 62220212345678901230
    000000
    000000001000
    000123
    2812
    0120
    00
    3130303030303031
    313233343536373839303132333435
    313536
    0008 22000001";

/// The sign-in answer: batch 000002, 16 bytes of keys; the TPDU's addresses swapped.
const SIGNIN_0810: &str = "
    005c
    6000000003 603100000000
    0810
    003800000ac00014
    000123
    093015
    1205
    313233343536373839303132
    3030
    3130303030303031
    313233343536373839303132333435
    0011 000000020030
    0016 000102030405060708090a0b0c0d0e0f";

fn sale() -> Frame {
    let (_, frame) = support::every_message()
        .into_iter()
        .find(|(n, _)| n == "sale-0200")
        .expect("sale");
    frame
}

fn signin_answer() -> Frame {
    let message = Message::new(mti("0810"))
        .with(11, t("000123"))
        .with(12, t("093015"))
        .with(13, t("1205"))
        .with(37, t("123456789012"))
        .with(39, t("00"))
        .with(41, t("10000001"))
        .with(42, t("123456789012345"))
        .with(60, t("00000002003"))
        .with(62, Value::Bytes((0u8..16).collect()));
    Frame {
        tpdu: [0x60, 0x00, 0x00, 0x00, 0x03],
        header: HEADER,
        message,
    }
}

#[test]
fn the_sale_0200_is_the_profiles_bytes() {
    let spec = Spec::unionpay();
    assert_eq!(
        hex(&spec.encode(&sale()).expect("encode")),
        hex(&unhex(SALE_0200))
    );
    assert_eq!(spec.decode(&unhex(SALE_0200)).expect("decode"), sale());
}

#[test]
fn the_signin_0810_is_the_profiles_bytes() {
    let spec = Spec::unionpay();
    assert_eq!(
        hex(&spec.encode(&signin_answer()).expect("encode")),
        hex(&unhex(SIGNIN_0810))
    );
    assert_eq!(
        spec.decode(&unhex(SIGNIN_0810)).expect("decode"),
        signin_answer()
    );
}

#[test]
fn the_length_prefix_counts_every_byte_after_it() {
    let wire = unhex(SALE_0200);
    assert_eq!(softpos_iso8583::frame_len([wire[0], wire[1]]), 81);
    assert_eq!(wire.len(), 83);
    assert_eq!(softpos_iso8583::frame_len([0x01, 0x02]), 258);
}
