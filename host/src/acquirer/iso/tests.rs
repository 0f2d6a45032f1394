//! The profile's mapping against the pyiso8583 peer (tests/acquirer/): a terminal's day of
//! messages, each answered by an encoder nobody on the host's side wrote, and the answers that
//! must leave the outcome unknown.

use super::*;
use crate::acquirer::{
    AcquirerOutcome, BatchUpload, Original, Sale, Settlement, Undo, UploadRecord,
};
use crate::peer_process::Peer;
use softpos::ids::{BatchNo, TraceNo};
use softpos::protocol::{Totals, TxKind};
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::money::Amount;
use softpos::terminal::time::Timestamp;

const TERMINAL: &str = "10000001";

fn terminal() -> Terminal {
    Terminal {
        terminal_id: TERMINAL.into(),
        merchant_id: "898310048160001".into(),
    }
}

fn acquirer(peer: &Peer, mode: LinkMode) -> IsoAcquirer {
    IsoAcquirer::new(peer.config(), mode)
}

fn management(operator: Option<&str>) -> Management {
    Management {
        terminal: terminal(),
        trace: host_trace(),
        batch: Some(BatchNo::clamped(1)),
        operator: operator.map(str::to_owned),
    }
}

fn sale(trace: u32, pan: &str, amount: i64) -> Request {
    let now = Timestamp::parse_utc("2026-12-05T00:00:00Z").unwrap();
    Request::Sale(Sale {
        terminal: terminal(),
        trace: TraceNo::clamped(trace),
        batch: BatchNo::clamped(1),
        amount: Amount::new(amount).unwrap(),
        currency: "CNY".into(),
        pan: Pan::parse(pan).unwrap(),
        expiry: Expiry::parse("12/30", now).unwrap(),
        reference: i64::from(trace),
    })
}

fn undo(trace: u32, of: u32, amount: i64, answered: &Answer) -> Undo {
    let Answer::Answered {
        rrn,
        auth_code,
        settlement_date,
        ..
    } = answered
    else {
        panic!("the sale was answered")
    };
    Undo {
        terminal: terminal(),
        trace: TraceNo::clamped(trace),
        batch: BatchNo::clamped(1),
        amount: Amount::new(amount).unwrap(),
        currency: "CNY".into(),
        original: Original {
            rrn: rrn.clone(),
            auth_code: auth_code.clone(),
            batch: BatchNo::clamped(1),
            trace: TraceNo::clamped(of),
            // 61.3: the sale's settlement date, field 15 of its answer.
            date: settlement_date.clone().expect("the acquirer's field 15"),
        },
        reference: i64::from(trace),
    }
}

fn settlement(debit: (u64, i64), credit: (u64, i64)) -> Request {
    Request::Settlement(Settlement {
        terminal: terminal(),
        trace: host_trace(),
        batch: BatchNo::clamped(1),
        currency: "CNY".into(),
        operator: "01".into(),
        debit: Totals {
            count: debit.0,
            amount: debit.1,
        },
        credit: Totals {
            count: credit.0,
            amount: credit.1,
        },
    })
}

fn code(answer: &Answer) -> &str {
    match answer {
        Answer::Answered { code, .. } => code,
        Answer::Unknown => "unknown",
    }
}

/// The acquirer's verdict on a settlement with these (count, amount) debits and credits.
async fn settled(
    acq: &IsoAcquirer,
    debit: (u64, i64),
    credit: (u64, i64),
) -> Option<AcquirerOutcome> {
    match acq.ask(settlement(debit, credit)).await {
        Answer::Answered { outcome, .. } => outcome,
        unknown => panic!("{unknown:?}"),
    }
}

#[tokio::test]
async fn r5_r6_r7_r11_a_day_through_the_profile_balances_with_the_acquirer() {
    let peer = Peer::start(&[]);
    let acq = acquirer(&peer, LinkMode::PerRequest);
    assert!(acq
        .ask(Request::SignIn(management(Some("01"))))
        .await
        .approved());

    let first = acq.ask(sale(1, "4111111111111111", 1250)).await;
    assert!(first.approved(), "{first:?}");
    let Answer::Answered { rrn, auth_code, .. } = &first else {
        unreachable!()
    };
    assert_eq!(rrn.as_deref().map(str::len), Some(12), "the acquirer's RRN");
    assert_eq!(auth_code.as_deref().map(str::len), Some(6));
    let declined = acq.ask(sale(2, "4000000000000002", 3000)).await;
    assert_eq!(code(&declined), "05", "a decline's code is passed through");
    let second = acq.ask(sale(3, "4111111111111111", 8800)).await;
    assert!(second.approved());

    let void = acq.ask(Request::Void(undo(4, 1, 1250, &first))).await;
    assert!(void.approved(), "{void:?}");
    let refund = acq.ask(Request::Refund(undo(5, 3, 2000, &second))).await;
    assert!(refund.approved(), "{refund:?}");

    // Sales less voids: 8800 in one; refunds: 2000 in one. The peer's own books agree.
    assert_eq!(
        settled(&acq, (1, 8800), (1, 2000)).await,
        Some(AcquirerOutcome::Balanced)
    );
    assert!(acq
        .ask(Request::SignOff(management(Some("01"))))
        .await
        .approved());
    assert_eq!(
        peer.received(),
        ["0800", "0200", "0200", "0200", "0200", "0220", "0500", "0820"]
    );
}

#[tokio::test]
async fn r11_an_unbalanced_batch_is_uploaded_and_closed() {
    let peer = Peer::start(&[]);
    let acq = acquirer(&peer, LinkMode::PerRequest);
    acq.ask(Request::SignIn(management(Some("01")))).await;
    let sold = acq.ask(sale(1, "4111111111111111", 1000)).await;
    assert_eq!(
        settled(&acq, (2, 5000), (0, 0)).await,
        Some(AcquirerOutcome::Unbalanced)
    );
    let Answer::Answered { rrn: Some(rrn), .. } = sold else {
        panic!("approved")
    };
    let upload = |records: Vec<UploadRecord>, closing| {
        Request::BatchUpload(BatchUpload {
            terminal: terminal(),
            trace: host_trace(),
            batch: BatchNo::clamped(1),
            records,
            closing,
        })
    };
    let record = UploadRecord {
        kind: TxKind::Sale,
        trace: TraceNo::clamped(1),
        amount: 1000,
        rrn,
    };
    assert!(acq.ask(upload(vec![record], false)).await.approved());
    assert!(acq.ask(upload(Vec::new(), true)).await.approved());
    assert_eq!(peer.received(), ["0800", "0200", "0500", "0320", "0320"]);
}

#[tokio::test]
async fn r8_94_98_no_answer_and_an_answer_without_41_leave_the_outcome_unknown() {
    let peer = Peer::start(&[]);
    let acq = acquirer(&peer, LinkMode::PerRequest);
    for (trace, card) in [
        (1, "4000000000000945"),
        (2, "4000000000000986"),
        (3, "4000000000003220"),
        (4, "4000000000000416"),
        (5, "4000000000000861"),
    ] {
        assert_eq!(
            acq.ask(sale(trace, card, 100)).await,
            Answer::Unknown,
            "{card}"
        );
    }
    // A0 (a MAC error) is an answer: a decline.
    assert_eq!(code(&acq.ask(sale(6, "4000000000001000", 100)).await), "A0");
}

#[tokio::test]
async fn r8_a_reversal_reaches_the_acquirer_and_takes_the_sale_out() {
    let peer = Peer::start(&[]);
    let acq = acquirer(&peer, LinkMode::Persistent);
    acq.ask(Request::SignIn(management(Some("01")))).await;
    let held = sale(1, "4000000000003220", 700);
    assert_eq!(acq.ask(held.clone()).await, Answer::Unknown);
    let reversal = Request::Reversal(crate::acquirer::Reversal {
        original: Box::new(held),
        reason: crate::acquirer::ReversalReason::NoAnswer,
    });
    assert!(acq.ask(reversal).await.approved());
    // The reversed sale is in no total of the acquirer's.
    assert_eq!(
        settled(&acq, (0, 0), (0, 0)).await,
        Some(AcquirerOutcome::Balanced)
    );
}

#[tokio::test]
async fn r16_a_sign_in_answer_brings_the_batch_number_the_acquirer_assigns() {
    let peer = Peer::start(&["--batch", "000777"]);
    let acq = acquirer(&peer, LinkMode::PerRequest);
    let answer = acq.ask(Request::SignIn(management(Some("01")))).await;
    let Answer::Answered { batch, .. } = &answer else {
        panic!("{answer:?}")
    };
    assert_eq!(*batch, Some(BatchNo::clamped(777)));
    // Only a sign-in's answer assigns one: a sale's echoes the sale's batch.
    let sold = acq.ask(sale(1, "4111111111111111", 100)).await;
    assert!(
        matches!(sold, Answer::Answered { batch: None, .. }),
        "{sold:?}"
    );
}

#[tokio::test]
async fn the_acquirer_asking_for_a_sign_in_gets_one_before_the_next_message() {
    let peer = Peer::start(&["--resign", TERMINAL]);
    let acq = acquirer(&peer, LinkMode::PerRequest);
    acq.ask(Request::SignIn(management(Some("02")))).await;
    // This answer carries "sign in again"; the next message goes after a new sign-in.
    assert!(acq.ask(sale(1, "4111111111111111", 100)).await.approved());
    assert!(acq.ask(sale(2, "4111111111111111", 100)).await.approved());
    assert_eq!(peer.received(), ["0800", "0200", "0800", "0200"]);
    // That sign-in names the batch of the message it goes before.
    let asked = peer.requests();
    assert_eq!(asked[2].1["60"], "00000001003", "{:?}", asked[2]);
}

/// The terminal master key both sides hold in the MAC tests.
const TMK: &str = "00112233445566778899aabbccddeeff";
/// The peer's card whose answers carry a MAC one bit off (`--bad-mac-card`).
const BAD_MAC_CARD: &str = "4000000000000044";

fn tmk(hex: &str) -> DesKey {
    let bytes: Vec<u8> = (0..32)
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    DesKey::new(bytes.try_into().unwrap())
}

fn mac_peer() -> Peer {
    Peer::start(&[
        "--mac",
        "x919",
        "--tmk",
        TMK,
        "--bad-mac-card",
        BAD_MAC_CARD,
    ])
}

#[tokio::test]
async fn mac_a_keyless_terminal_is_signed_in_first_and_its_day_goes_with_macs_both_ways() {
    let peer = mac_peer();
    let acq = acquirer(&peer, LinkMode::PerRequest).with_mac(tmk(TMK));
    // No sign-in yet (or the host restarted): the host signs in on the terminal's behalf for
    // the working key. The peer answers 00 only to a MAC it verified, and the host takes an
    // approval only with a MAC it verified.
    let sold = acq.ask(sale(1, "4111111111111111", 1250)).await;
    assert!(sold.approved(), "{sold:?}");
    let void = acq.ask(Request::Void(undo(2, 1, 1250, &sold))).await;
    assert!(void.approved(), "{void:?}");
    assert_eq!(
        settled(&acq, (0, 0), (0, 0)).await,
        Some(AcquirerOutcome::Balanced)
    );
    assert!(acq
        .ask(Request::SignOff(management(Some("01"))))
        .await
        .approved());
    assert_eq!(peer.received(), ["0800", "0200", "0200", "0500", "0820"]);
}

#[tokio::test]
async fn mac_an_answer_whose_mac_is_wrong_is_no_answer() {
    let peer = mac_peer();
    let acq = acquirer(&peer, LinkMode::Persistent).with_mac(tmk(TMK));
    assert!(acq
        .ask(Request::SignIn(management(Some("01"))))
        .await
        .approved());
    assert_eq!(
        acq.ask(sale(1, BAD_MAC_CARD, 500)).await,
        Answer::Unknown,
        "approved upstream, but the answer's MAC is one bit off"
    );
    // The key stands: the next answer with a right MAC is taken.
    assert!(acq.ask(sale(2, "4111111111111111", 100)).await.approved());
    let held = sale(3, "4000000000003220", 700);
    assert_eq!(acq.ask(held.clone()).await, Answer::Unknown);
    // A reversal goes out MACed too, and its MACed 0410 is taken.
    let reversal = Request::Reversal(crate::acquirer::Reversal {
        original: Box::new(held),
        reason: crate::acquirer::ReversalReason::NoAnswer,
    });
    assert!(acq.ask(reversal).await.approved());
}

#[tokio::test]
async fn mac_a0_declines_and_the_terminal_signs_in_again_before_its_next_message() {
    let peer = mac_peer();
    let acq = acquirer(&peer, LinkMode::PerRequest).with_mac(tmk(TMK));
    acq.ask(Request::SignIn(management(Some("02")))).await;
    assert_eq!(code(&acq.ask(sale(1, "4000000000001000", 100)).await), "A0");
    assert!(acq.ask(sale(2, "4111111111111111", 100)).await.approved());
    assert_eq!(peer.received(), ["0800", "0200", "0800", "0200"]);
}

#[tokio::test]
async fn mac_another_master_key_brings_no_working_key_and_no_message_goes_without_a_mac() {
    let peer = mac_peer();
    let acq =
        acquirer(&peer, LinkMode::PerRequest).with_mac(tmk("ffeeddccbbaa99887766554433221100"));
    // The acquirer approves the sign-in, but the MAK's check value fails under this TMK.
    acq.ask(Request::SignIn(management(Some("01")))).await;
    assert_eq!(
        acq.ask(sale(1, "4111111111111111", 100)).await,
        Answer::Unknown
    );
    assert_eq!(peer.received(), ["0800", "0800"], "the sale was never sent");
}

#[tokio::test]
async fn r20_r11_upload_records_carry_their_60_1_kinds() {
    let peer = Peer::start(&[]);
    let acq = acquirer(&peer, LinkMode::PerRequest);
    acq.ask(Request::SignIn(management(Some("01")))).await;
    let Request::Sale(held) = sale(1, "4111111111111111", 1000) else {
        unreachable!()
    };
    let answer = acq.ask(Request::Preauth(held)).await;
    let Answer::Answered { rrn: Some(rrn), .. } = &answer else {
        panic!("approved: {answer:?}")
    };
    let record = |kind, trace| UploadRecord {
        kind,
        trace: TraceNo::clamped(trace),
        amount: 1000,
        rrn: rrn.clone(),
    };
    let records = vec![
        record(TxKind::Preauth, 1),
        record(TxKind::PreauthVoid, 2),
        record(TxKind::Completion, 3),
        record(TxKind::CompletionVoid, 4),
    ];
    let upload = Request::BatchUpload(BatchUpload {
        terminal: terminal(),
        trace: host_trace(),
        batch: BatchNo::clamped(1),
        records,
        closing: false,
    });
    assert!(acq.ask(upload).await.approved());
    let sent = peer.requests();
    let (mti, fields) = sent.last().unwrap();
    assert_eq!(mti, "0320");
    let kinds: Vec<String> = softpos_iso8583::fields::parse_upload(fields["48"].as_str().unwrap())
        .unwrap()
        .iter()
        .map(|r| format!("{:02}", r.kind))
        .collect();
    assert_eq!(kinds, ["10", "11", "20", "21"]);
}
