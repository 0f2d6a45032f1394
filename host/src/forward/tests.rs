use super::*;
use crate::acquirer::{Original, Sale, Terminal, Undo};
use softpos::ids::{BatchNo, TraceNo};
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::money::Amount;
use softpos::terminal::time::Timestamp;

fn terminal() -> Terminal {
    Terminal {
        terminal_id: "10000001".into(),
        merchant_id: "898310048160001".into(),
    }
}

fn a_sale() -> Request {
    Request::Sale(Sale {
        terminal: terminal(),
        trace: TraceNo::try_from(7u32).unwrap(),
        batch: BatchNo::FIRST,
        amount: Amount::new(1250).unwrap(),
        currency: "CNY".into(),
        pan: Pan::parse("4111111111111111").unwrap(),
        expiry: Expiry::parse("01/27", Timestamp(1_795_824_000_000)).unwrap(),
        reference: 42,
    })
}

fn a_refund() -> Request {
    Request::Refund(Undo {
        terminal: terminal(),
        trace: TraceNo::try_from(8u32).unwrap(),
        batch: BatchNo::FIRST,
        amount: Amount::new(500).unwrap(),
        currency: "CNY".into(),
        original: Original {
            rrn: Some("000000000042".into()),
            auth_code: Some("123456".into()),
            batch: BatchNo::FIRST,
            trace: TraceNo::try_from(7u32).unwrap(),
            date: "1205".into(),
        },
        reference: 43,
    })
}

#[test]
fn r8_upstream_a_job_is_tried_again_after_1_s_doubling_up_to_5_minutes() {
    let waits: Vec<u64> = (1..=11)
        .map(|n| retry_after(Duration::from_secs(1), n).as_secs())
        .collect();
    assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
    assert_eq!(retry_after(Duration::from_secs(1), i64::MAX), RETRY_MAX);
    assert_eq!(retry_after(Duration::from_secs(1), 0).as_secs(), 1);
}

#[test]
fn r8_upstream_what_is_owed_after_each_answer() {
    let (sale, refund) = (a_sale(), a_refund());
    let unknown = Answer::Unknown;
    let ok = Answer::code("00");
    let no = Answer::code("05");
    let reversal = |r| Some(Owed::Reversal(r));
    assert_eq!(
        Owed::after(&sale, &unknown, true),
        reversal(ReversalReason::NoAnswer)
    );
    assert_eq!(
        Owed::after(&sale, &unknown, false),
        reversal(ReversalReason::NoAnswer)
    );
    assert_eq!(Owed::after(&refund, &unknown, true), Some(Owed::Advice));
    assert_eq!(Owed::after(&sale, &ok, true), None);
    assert_eq!(
        Owed::after(&sale, &ok, false),
        reversal(ReversalReason::Other)
    );
    assert_eq!(
        Owed::after(&refund, &ok, false),
        reversal(ReversalReason::Other)
    );
    assert_eq!(Owed::after(&sale, &no, false), None);
}

#[test]
fn r4_r8_upstream_a_kept_message_holds_no_card_and_comes_back_whole() {
    let (json, card) = stored::keep(&a_sale()).unwrap();
    assert!(
        !json.contains("4111111111111111") && !json.contains("01/27"),
        "{json}"
    );
    assert!(json.contains("411111******1111"));
    let card = card.unwrap();
    let Request::Sale(back) = stored::rebuild(&json, Some(&card)).unwrap() else {
        panic!()
    };
    // The card's expiry has passed by the time a reversal goes out: it is sent all the same.
    assert_eq!(
        (back.pan.digits(), back.expiry.to_mm_yy()),
        ("4111111111111111", "01/27".into())
    );
    assert_eq!(
        (back.trace.get(), back.amount.get(), back.reference),
        (7, 1250, 42)
    );
    let Request::Sale(without) = stored::rebuild(&json, None).unwrap() else {
        panic!()
    };
    assert_eq!(without.pan.digits(), "0000000000000000", "no card was kept");
    let (json, card) = stored::keep(&a_refund()).unwrap();
    assert!(card.is_none());
    let Request::Refund(back) = stored::rebuild(&json, None).unwrap() else {
        panic!()
    };
    let Request::Refund(refund) = a_refund() else {
        panic!()
    };
    assert_eq!(back.original, refund.original);
    // A job kept before the acquirer's settlement date was: the sale's day, `YYYY-MM-DD`.
    let old = json.replace("\"date\":\"1205\"", "\"date\":\"2026-12-05\"");
    assert_ne!(old, json);
    let Request::Refund(back) = stored::rebuild(&old, None).unwrap() else {
        panic!()
    };
    assert_eq!(back.original.date, "1205");
    assert_eq!(
        (back.trace, back.amount, back.reference),
        (refund.trace, refund.amount, 43)
    );
    assert!(stored::rebuild("{\"op\":\"sale\"}", None).is_err());
}

#[test]
fn r20_r8_upstream_a_kept_completion_holds_no_card_and_comes_back_with_its_hold() {
    let (Request::Sale(sale), Request::Refund(refund)) = (a_sale(), a_refund()) else {
        panic!()
    };
    let completion = Request::Completion(crate::acquirer::Completion {
        sale: sale.clone(),
        hold: refund.original.clone(),
    });
    let (json, card) = stored::keep(&completion).unwrap();
    assert!(!json.contains("4111111111111111"), "{json}");
    let Request::Completion(back) = stored::rebuild(&json, card.as_deref()).unwrap() else {
        panic!("{json}")
    };
    assert_eq!(back.hold, refund.original);
    assert_eq!(
        (back.sale.pan.digits(), back.sale.amount.get()),
        ("4111111111111111", 1250)
    );
    let (json, card) = stored::keep(&Request::Preauth(sale)).unwrap();
    assert!(card.is_some());
    assert!(matches!(
        stored::rebuild(&json, card.as_deref()),
        Ok(Request::Preauth(_))
    ));
    for undo in [
        Request::PreauthVoid(refund.clone()),
        Request::CompletionVoid(refund),
    ] {
        let (json, card) = stored::keep(&undo).unwrap();
        assert!(card.is_none());
        let back = stored::rebuild(&json, None).unwrap();
        assert_eq!(std::mem::discriminant(&back), std::mem::discriminant(&undo));
    }
}
