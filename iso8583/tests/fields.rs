//! The composite fields' sub-field helpers, each against digits written out from the profile.

use softpos_iso8583::fields::{
    operator, operator_text, parse_upload, upload_text, Balance, Field60, Field61, Settlement,
    Totals, UploadRecord,
};

#[test]
fn field60_is_kind_batch_and_the_optional_network_code() {
    let sale = Field60 {
        kind: 22,
        batch: 1,
        network: None,
    };
    assert_eq!(sale.to_text().as_deref(), Ok("22000001"));
    let signin = Field60 {
        kind: 0,
        batch: 42,
        network: Some(3),
    };
    assert_eq!(signin.to_text().as_deref(), Ok("00000042003"));
    assert_eq!(Field60::parse("00000042003"), Ok(signin));
    assert_eq!(Field60::parse("22000001"), Ok(sale));
    for bad in [
        "2200000",
        "220000010",
        "2200000100",
        "220000010030",
        "22a00001",
        "",
    ] {
        assert!(Field60::parse(bad).is_err(), "{bad}");
    }
    assert!(Field60 {
        kind: 100,
        batch: 1,
        network: None
    }
    .to_text()
    .is_err());
    assert!(Field60 {
        kind: 0,
        batch: 1_000_000,
        network: None
    }
    .to_text()
    .is_err());
    assert!(Field60 {
        kind: 0,
        batch: 1,
        network: Some(1000)
    }
    .to_text()
    .is_err());
}

#[test]
fn field61_is_batch_trace_and_the_optional_date() {
    let void = Field61 {
        batch: 1,
        trace: 123,
        date: None,
    };
    assert_eq!(void.to_text().as_deref(), Ok("000001000123"));
    let refund = Field61 {
        batch: 1,
        trace: 123,
        date: Some("1205".into()),
    };
    assert_eq!(refund.to_text().as_deref(), Ok("0000010001231205"));
    assert_eq!(Field61::parse("0000010001231205"), Ok(refund));
    assert_eq!(Field61::parse("000001000123"), Ok(void));
    for bad in [
        "00000100012",
        "00000100012312",
        "000001000123120",
        "0000010001231205x",
    ] {
        assert!(Field61::parse(bad).is_err(), "{bad}");
    }
    assert!(Field61 {
        batch: 1,
        trace: 1,
        date: Some("125".into())
    }
    .to_text()
    .is_err());
    assert!(Field61 {
        batch: 1,
        trace: 1_000_000,
        date: None
    }
    .to_text()
    .is_err());
}

#[test]
fn field63_is_the_operator_left_justified_in_three() {
    assert_eq!(operator_text("01").as_deref(), Ok("01 "));
    assert_eq!(operator_text("123").as_deref(), Ok("123"));
    assert!(operator_text("").is_err());
    assert!(operator_text("1234").is_err());
    assert!(operator_text("0 1").is_err());
    assert_eq!(operator("01 "), Ok("01"));
    assert_eq!(operator("01 more the acquirer adds"), Ok("01"));
    assert!(operator("01").is_err());
    assert!(operator("   ").is_err());
}

const TOTALS: Totals = Totals {
    debit_amount: 123_456,
    debit_count: 7,
    credit_amount: 2_000,
    credit_count: 1,
};

#[test]
fn field48_in_0500_is_the_totals_a_zero_then_31_zeros() {
    let text = Settlement {
        totals: TOTALS,
        balance: None,
    }
    .to_text()
    .expect("48");
    assert_eq!(
        text,
        format!("000000123456007000000002000001{}", "0".repeat(32))
    );
    assert_eq!(text.len(), 62);
    assert_eq!(
        Settlement::parse(&text),
        Ok(Settlement {
            totals: TOTALS,
            balance: None
        })
    );
}

#[test]
fn field48_in_0510_carries_the_verdict_in_the_31st_digit() {
    for (digit, balance) in [
        ('1', Balance::Balanced),
        ('2', Balance::Unbalanced),
        ('3', Balance::Error),
    ] {
        let text = format!("000000123456007000000002000001{digit}{}", "0".repeat(31));
        let parsed = Settlement::parse(&text).expect("48");
        assert_eq!(
            parsed,
            Settlement {
                totals: TOTALS,
                balance: Some(balance)
            }
        );
        assert_eq!(parsed.to_text().as_deref(), Ok(text.as_str()));
        assert_eq!(text.chars().nth(30), Some(digit));
    }
    let four = format!("000000123456007000000002000001{}{}", '4', "0".repeat(31));
    assert!(Settlement::parse(&four).is_err());
    assert!(Settlement::parse(&"0".repeat(61)).is_err());
    assert!(Settlement::parse(&"0".repeat(63)).is_err());
    let over = Totals {
        debit_count: 1000,
        ..TOTALS
    };
    assert!(Settlement {
        totals: over,
        balance: None
    }
    .to_text()
    .is_err());
}

#[test]
fn field48_in_0320_is_a_count_then_32_digits_a_record() {
    let record = UploadRecord {
        kind: 22,
        trace: 123,
        amount: 1000,
        rrn: "123456789012".into(),
    };
    let text = upload_text(std::slice::from_ref(&record)).expect("48");
    assert_eq!(text, "0122000123000000001000123456789012");
    assert_eq!(parse_upload(&text), Ok(vec![record.clone()]));
    let eight = vec![record.clone(); 8];
    assert_eq!(upload_text(&eight).map(|t| t.len()), Ok(2 + 8 * 32));
    assert!(upload_text(&vec![record.clone(); 9]).is_err());
    assert_eq!(upload_text(&[]).as_deref(), Ok("00"));
    assert!(parse_upload("09").is_err());
    assert!(parse_upload(&format!("{text}0")).is_err());
    assert!(parse_upload("02220001230000000010001234567890").is_err());
    let letters = UploadRecord {
        rrn: "12345678901A".into(),
        ..record
    };
    assert!(upload_text(&[letters]).is_err());
}
