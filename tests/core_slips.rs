//! R21 slips and reports in the terminal core: a slip is read from the journal, so printed at
//! once or reprinted by trace number it says the same; the merchant's name is the host's; the
//! settlements kept for reprinting are bounded.

mod support;

use softpos::protocol::{EntryKind, EntryStatus};
use softpos::terminal::{Command, SettledHistory};
use support::*;

#[test]
fn r21_slip_reads_the_journal_with_the_hosts_merchant_name() {
    let mut b = Bench::new();
    b.host.merchant_name = Some("示例茶叶店".into());
    b.run(Command::Activate { code: CODE.into() }).unwrap();
    b.sign_in().unwrap();
    assert_eq!(b.terminal.merchant_name(), Some("示例茶叶店"));
    assert_eq!(b.terminal.slip(None), None, "no transaction, no slip");
    let first = tx(b.sale(1250).unwrap());
    let second = tx(b.sale(800).unwrap());
    let last = b.terminal.slip(None).expect("the last slip");
    assert_eq!((last.trace_no, last.amount), (second.trace_no, 800));
    let again = b.terminal.slip(Some(first.trace_no)).expect("by trace");
    assert_eq!(again.kind, EntryKind::Sale);
    assert_eq!(again.status, EntryStatus::Approved);
    assert_eq!(again.rrn, first.rrn);
    assert_eq!(again.auth_code, first.auth_code);
    assert_eq!(again.masked_pan, first.masked_pan);
    assert_eq!(again.batch_no, first.batch_no);
    assert_eq!(again.operator, OPERATOR);
    assert_eq!(again.merchant_name.as_deref(), Some("示例茶叶店"));
    assert_eq!(again.at, first.at);
    assert_eq!(b.terminal.slip(Some(999)), None, "not in this batch");
    // A void's slip names its sale.
    let void = tx(b.run(void(first.trace_no)).unwrap());
    let slip = b.terminal.slip(Some(void.trace_no)).expect("void slip");
    assert_eq!(slip.kind, EntryKind::Void);
    assert_eq!(slip.original_trace_no, Some(first.trace_no));
    // Settled, the batch's slips go with it; its settlement is kept for reprinting.
    b.run(Command::Settle).unwrap();
    assert_eq!(b.terminal.slip(Some(first.trace_no)), None);
    assert_eq!(b.terminal.settled_history().count(), 1);
    // A host that names no merchant takes the name away at the next sign-in.
    b.host.merchant_name = None;
    b.sign_in().unwrap();
    assert_eq!(b.terminal.merchant_name(), None);
}

#[test]
fn r21_settlements_kept_for_reprinting_are_the_last_ten_and_survive_a_reload() {
    let mut b = Bench::signed_in();
    for i in 0..12 {
        b.sale(100 + i).unwrap();
        b.run(Command::Settle).unwrap();
    }
    let kept: Vec<u32> = b.terminal.settled_history().map(|s| s.batch_no).collect();
    assert_eq!(kept.len(), SettledHistory::KEPT);
    assert_eq!(
        kept,
        (3..=12).collect::<Vec<_>>(),
        "the newest, oldest first"
    );
    b.reload().unwrap();
    let after: Vec<u32> = b.terminal.settled_history().map(|s| s.batch_no).collect();
    assert_eq!(after, kept);
}

#[test]
fn r21_a_query_is_a_trace_an_rrn_the_last_four_or_an_amount_in_minor_units() {
    use softpos::protocol::SaleQuery;
    use softpos::terminal::money::Currency;
    use softpos::terminal::TxQuery;
    let q = |t: &str| TxQuery::parse(t, Currency::Cny);
    assert_eq!(q("12.50"), TxQuery::Amount(1250));
    assert_eq!(q(" 12.5 "), TxQuery::Amount(1250));
    assert_eq!(q("0.01"), TxQuery::Amount(1));
    assert_eq!(q("1,250.00"), TxQuery::Amount(125_000));
    for bad in ["12.505", "4111111111111111", "abc", "12.5.0", "."] {
        assert_eq!(q(bad), TxQuery::Bad, "{bad:?}");
    }
    assert!(matches!(
        q("000000000042"),
        TxQuery::Sales(SaleQuery::Rrn(_))
    ));
    let sale = |q: &TxQuery| q.hits("000000000042", 7, "401288******1881", 1250);
    for hit in ["", "7", "000007", "1881", "000000000042", "12.50", "12.5"] {
        assert!(sale(&q(hit)), "{hit:?}");
    }
    for miss in ["12.51", "8", "1250", "000000000043", "4111111111111111"] {
        assert!(!sale(&q(miss)), "{miss:?}");
    }
    // An amount is never a trace number: the host is asked for it in minor units (`amount=`);
    // anything else goes as typed, and what the host would refuse is never sent.
    let b = Bench::signed_in();
    let path = |q: &TxQuery, text: &str| b.terminal.tx_lookup(q, text).map(|l| l.path);
    assert_eq!(path(&q("12.50"), "12.50").unwrap(), "/v1/sales?amount=1250");
    assert_eq!(path(&q("1881"), " 1881 ").unwrap(), "/v1/sales?q=1881");
    let jpy = TxQuery::parse("1250", Currency::Jpy);
    assert_eq!(path(&jpy, "1250").unwrap(), "/v1/sales?q=1250");
    let card = "4111111111111111";
    assert_eq!(
        path(&q(card), card).unwrap_err().code,
        softpos::ErrorCode::BadRequest
    );
}
