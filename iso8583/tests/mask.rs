//! A message's Display is for logs: it never shows the PAN beyond 6 + 4 digits, the expiry,
//! track data, keys or MAC; every other field and the MTI show.

mod support;

use softpos_iso8583::{Frame, Message, Value};
use support::{every_message, mti, t, EXPIRY, PAN};

fn sale() -> Frame {
    every_message()
        .into_iter()
        .find(|(n, _)| n == "sale-mac-0200")
        .expect("sale")
        .1
}

#[test]
fn the_pan_and_expiry_never_show() {
    for (name, frame) in every_message() {
        for shown in [
            frame.to_string(),
            frame.message.to_string(),
            format!("{frame:?}"),
            format!("{:?}", frame.message),
        ] {
            assert!(!shown.contains(PAN), "{name}: {shown}");
            assert!(!shown.contains(EXPIRY), "{name}: {shown}");
        }
    }
    let shown = sale().message.to_string();
    assert!(shown.contains("2=622202*********0123"), "{shown}");
    assert!(shown.contains("14=****"), "{shown}");
}

#[test]
fn keys_and_mac_show_only_their_length() {
    let shown = sale().to_string();
    assert!(shown.contains("64=[8 bytes]"), "{shown}");
    assert!(!shown.contains("a5a5"), "{shown}");
    let signin = every_message()
        .into_iter()
        .find(|(n, _)| n == "signin-0800-answer")
        .expect("0810")
        .1;
    let shown = signin.to_string();
    assert!(shown.contains("62=[24 bytes]"), "{shown}");
    assert!(!shown.contains("000102"), "{shown}");
}

#[test]
fn every_other_field_and_the_mti_show() {
    let shown = sale().to_string();
    assert!(
        shown.starts_with("tpdu=6000030000 header=603100000000 0200 "),
        "{shown}"
    );
    for part in [
        "3=\"000000\"",
        "4=\"000000001000\"",
        "11=\"000124\"",
        "22=\"012\"",
        "41=\"10000001\"",
        "60=\"22000001\"",
    ] {
        assert!(shown.contains(part), "{part} in {shown}");
    }
}

#[test]
fn track_data_and_short_pans_are_hidden_whole() {
    let message = Message::new(mti("0200"))
        .with(2, t("123456789012"))
        .with(35, t("6222021234567890123=2812"))
        .with(36, Value::Bytes(vec![1, 2, 3]));
    let shown = message.to_string();
    assert_eq!(shown, "0200 2=************ 35=**** 36=****");
}
