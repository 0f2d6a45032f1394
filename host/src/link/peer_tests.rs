//! The link against the acquirer peer nobody on the host's side wrote (tests/acquirer/peer.py on
//! pyiso8583): every frame crosses two independent encoders, over real TCP on loopback. The
//! peer runs from `target/acquirer-venv`, which `make test` makes (`scripts/tools.sh acquirer`).

use super::*;
use crate::peer_process::{Peer, HOLD_MS};
use softpos_iso8583::fields::{kind, Field60};
use softpos_iso8583::{Mti, Value};
use std::time::Duration;

const CARD: &str = "4111111111111111";
const HELD_CARD: &str = "4000000000003220";
const BYTE_AT_A_TIME_CARD: &str = "4000000000000010";
const DROPPED_MID_FRAME_CARD: &str = "4000000000000861";

fn sale(trace: u32, pan: &str) -> Message {
    let f60 = Field60 {
        kind: kind::SALE,
        batch: 1,
        network: None,
    };
    Message::new(Mti::new(200).unwrap())
        .with(2, Value::text(pan))
        .with(3, Value::text("000000"))
        .with(4, Value::text("000000001250"))
        .with(11, Value::text(format!("{trace:06}")))
        .with(14, Value::text("3012"))
        .with(22, Value::text("012"))
        .with(25, Value::text("00"))
        .with(41, Value::text("10000001"))
        .with(42, Value::text("898310048160001"))
        .with(49, Value::text("156"))
        .with(60, Value::text(f60.to_text().unwrap()))
}

#[tokio::test]
async fn a_sale_crosses_the_link_and_pyiso8583_both_ways() {
    let peer = Peer::start(&[]);
    let link = PerRequest::new(peer.config());
    let answer = link.exchange(sale(1, CARD)).await.unwrap();
    let m = &answer.message;
    assert_eq!(m.mti.value(), 210);
    assert_eq!(m.text(39), Some("00"));
    assert_eq!(m.text(37).map(str::len), Some(12), "the acquirer's RRN");
    assert_eq!(
        m.text(38).map(str::len),
        Some(6),
        "the acquirer's auth code"
    );
    assert_eq!(m.text(2), None, "the card number is not echoed");
    assert_eq!(answer.tpdu, softpos_iso8583::swap_tpdu(peer.config().tpdu));
}

#[tokio::test]
async fn the_peers_one_byte_writes_and_dropped_frames_are_survived() {
    let peer = Peer::start(&[]);
    let link = PerRequest::new(peer.config());
    let answer = link.exchange(sale(2, BYTE_AT_A_TIME_CARD)).await.unwrap();
    assert_eq!(answer.message.text(39), Some("00"));
    let dropped = link.exchange(sale(3, DROPPED_MID_FRAME_CARD)).await;
    assert!(matches!(dropped, Err(LinkError::Io(_))), "{dropped:?}");
    let held = link.exchange(sale(4, HELD_CARD)).await;
    assert!(matches!(held, Err(LinkError::Timeout)), "{held:?}");
}

#[tokio::test]
async fn on_a_persistent_link_a_held_answer_is_overtaken() {
    let peer = Peer::start(&[]);
    let idle = Duration::from_secs(60);
    let echo = Box::new(|| Message::new(Mti::new(820).unwrap()));
    let link = Persistent::start(peer.config(), idle, echo);
    let (held, quick) = tokio::join!(link.exchange(sale(5, HELD_CARD)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        link.exchange(sale(6, CARD)).await
    });
    assert_eq!(quick.unwrap().message.text(11), Some("000006"));
    assert!(matches!(held, Err(LinkError::Timeout)), "{held:?}");
    // The held answer arrives after its caller gave up; the link drops it and goes on.
    tokio::time::sleep(Duration::from_millis(HOLD_MS)).await;
    let next = link.exchange(sale(7, CARD)).await.unwrap();
    assert_eq!(next.message.text(11), Some("000007"));
}
