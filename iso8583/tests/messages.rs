//! Every message type of the profile's table, request and answer: encoded, decoded back equal,
//! and re-encoded to the same bytes.

mod support;

use softpos_iso8583::fields::{parse_upload, Balance, Field60, Field61, Settlement};
use softpos_iso8583::{processing_requirement, swap_tpdu, Spec, SIGN_IN_AGAIN};
use support::{every_message, unhex, HEADER, TPDU};

#[test]
fn every_message_type_round_trips() {
    let spec = Spec::unionpay();
    let all = every_message();
    assert_eq!(all.len(), 30, "15 operations, request and answer each");
    for (name, frame) in all {
        let wire = spec
            .encode(&frame)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let back = spec.decode(&wire).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, frame, "{name}");
        assert_eq!(spec.encode(&back).ok(), Some(wire), "{name}");
    }
}

#[test]
fn the_sub_fields_read_back_from_decoded_messages() {
    let spec = Spec::unionpay();
    let all = every_message();
    let find = |name: &str| {
        let (_, frame) = all.iter().find(|(n, _)| n == name).expect(name);
        spec.decode(&spec.encode(frame).expect("encode"))
            .expect("decode")
            .message
    };
    let signin = find("signin-0800-answer");
    assert_eq!(
        Field60::parse(signin.text(60).expect("60")).map(|f| f.batch),
        Ok(2)
    );
    assert_eq!(signin.bytes(62).map(<[u8]>::len), Some(24));
    let refund = find("refund-0220");
    let f61 = Field61::parse(refund.text(61).expect("61")).expect("61");
    assert_eq!(
        (f61.batch, f61.trace, f61.date.as_deref()),
        (1, 123, Some("1205"))
    );
    let settle = Settlement::parse(find("settle-0500-answer").text(48).expect("48")).expect("48");
    assert_eq!(settle.balance, Some(Balance::Unbalanced));
    assert_eq!(settle.totals.debit_amount, 123_456);
    let upload = parse_upload(find("upload-0320").text(48).expect("48")).expect("48");
    assert_eq!(upload.len(), 8);
    assert_eq!(upload[7].rrn, "000000005007");
    assert_eq!(
        parse_upload(find("upload-close-0320").text(48).expect("48")),
        Ok(vec![])
    );
}

#[test]
fn the_answer_swaps_destination_and_source() {
    assert_eq!(swap_tpdu(TPDU), [0x60, 0x00, 0x00, 0x00, 0x03]);
    assert_eq!(swap_tpdu(swap_tpdu(TPDU)), TPDU);
    assert_eq!(swap_tpdu([0x60, 1, 2, 3, 4]), [0x60, 3, 4, 1, 2]);
}

#[test]
fn the_header_says_sign_in_again_in_the_third_bytes_low_nibble() {
    assert_eq!(processing_requirement(&HEADER), 0);
    let again: [u8; 6] = unhex("603103000000").try_into().expect("6 bytes");
    assert_eq!(processing_requirement(&again), SIGN_IN_AGAIN);
    let high_nibble_only: [u8; 6] = unhex("6031f0000000").try_into().expect("6 bytes");
    assert_eq!(processing_requirement(&high_nibble_only), 0);
}

#[test]
fn the_mti_answer_adds_ten_to_requests_only() {
    let mti = |s: &str| s.parse::<softpos_iso8583::Mti>().expect("mti");
    assert_eq!(mti("0200").response(), Some(mti("0210")));
    assert_eq!(mti("0820").response(), Some(mti("0830")));
    assert_eq!(mti("0210").response(), None);
    assert!("020".parse::<softpos_iso8583::Mti>().is_err());
    assert!("02a0".parse::<softpos_iso8583::Mti>().is_err());
    assert_eq!(mti("0320").to_string(), "0320");
}
