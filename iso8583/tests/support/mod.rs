//! What the codec's tests share: hex, and one frame of each message type of the profile.
#![allow(dead_code)]

use softpos_iso8583::fields::{
    kind, network, operator_text, upload_text, Balance, Field60, Field61, Settlement, Totals,
    UploadRecord,
};
use softpos_iso8583::{swap_tpdu, Frame, Message, Mti, Value};

pub const TPDU: [u8; 5] = [0x60, 0x00, 0x03, 0x00, 0x00];
pub const HEADER: [u8; 6] = [0x60, 0x31, 0x00, 0x00, 0x00, 0x00];
pub const PAN: &str = "6222021234567890123";
pub const EXPIRY: &str = "2812";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex to bytes; spaces are skipped so vectors can be laid out by field.
pub fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd hex: {text}");
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("ascii");
            u8::from_str_radix(s, 16).expect("hex")
        })
        .collect()
}

pub fn t(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

pub fn mti(s: &str) -> Mti {
    s.parse().expect("mti")
}

fn f60(kind: u8, batch: u32, network: Option<u16>) -> Value {
    t(Field60 {
        kind,
        batch,
        network,
    }
    .to_text()
    .expect("60"))
}

fn f61(batch: u32, trace: u32, date: Option<&str>) -> Value {
    t(Field61 {
        batch,
        trace,
        date: date.map(str::to_owned),
    }
    .to_text()
    .expect("61"))
}

/// A request from the terminal `10000001` of merchant `123456789012345`.
pub fn request(mti_text: &str, fields: Vec<(u8, Value)>) -> Frame {
    let mut message = Message::new(mti(mti_text))
        .with(41, t("10000001"))
        .with(42, t("123456789012345"));
    message.fields.extend(fields);
    Frame {
        tpdu: TPDU,
        header: HEADER,
        message,
    }
}

/// The acquirer's answer to `req`: TPDU swapped, the response MTI, these fields.
pub fn answer(req: &Frame, fields: Vec<(u8, Value)>) -> Frame {
    let mut message = Message::new(req.message.mti.response().expect("a request"));
    for keep in [41, 42] {
        if let Some(v) = req.message.fields.get(&keep) {
            message.fields.insert(keep, v.clone());
        }
    }
    message.fields.extend(fields);
    Frame {
        tpdu: swap_tpdu(req.tpdu),
        header: req.header,
        message,
    }
}

/// What an approval adds to a financial request's fields.
fn approved(req: &Frame) -> Vec<(u8, Value)> {
    let mut fields: Vec<(u8, Value)> = [3, 4, 11, 25, 49, 60]
        .into_iter()
        .filter_map(|n| req.message.fields.get(&n).map(|v| (n, v.clone())))
        .collect();
    fields.extend([
        (12, t("093015")),
        (13, t("1205")),
        (15, t("1205")),
        (37, t("123456789012")),
        (38, t("A1B2C3")),
        (39, t("00")),
    ]);
    fields
}

/// The financial operations of the profile: name, MTI, processing code, trace, condition code,
/// 60.1, and what else each carries (`card`: 2, 14; `rrn`: 37; `auth`: 38; `61`, `61+date`;
/// `mac`: 64; `98`: 39 of a reversal).
const FINANCIAL: &[(&str, &str, &str, &str, &str, u8, &str)] = &[
    (
        "sale-0200",
        "0200",
        "000000",
        "000123",
        "00",
        kind::SALE,
        "card",
    ),
    (
        "sale-mac-0200",
        "0200",
        "000000",
        "000124",
        "00",
        kind::SALE,
        "card mac",
    ),
    (
        "void-0200",
        "0200",
        "200000",
        "000125",
        "00",
        kind::VOID,
        "rrn auth 61",
    ),
    (
        "refund-0220",
        "0220",
        "200000",
        "000126",
        "00",
        kind::REFUND,
        "rrn 61+date",
    ),
    (
        "preauth-0100",
        "0100",
        "030000",
        "000127",
        "06",
        kind::PREAUTH,
        "card",
    ),
    (
        "preauth-void-0100",
        "0100",
        "200000",
        "000128",
        "06",
        kind::PREAUTH_VOID,
        "auth 61",
    ),
    (
        "completion-0200",
        "0200",
        "000000",
        "000129",
        "06",
        kind::COMPLETION,
        "card auth 61",
    ),
    (
        "completion-void-0200",
        "0200",
        "200000",
        "000130",
        "06",
        kind::COMPLETION_VOID,
        "card rrn auth 61",
    ),
    (
        "reversal-0400",
        "0400",
        "000000",
        "000123",
        "00",
        kind::SALE,
        "card 98",
    ),
];

fn financial() -> Vec<(&'static str, Frame)> {
    FINANCIAL
        .iter()
        .map(|&(name, mti_text, code, trace, condition, kind, extras)| {
            let has = |flag| extras.split(' ').any(|f| f == flag);
            let mut fields = vec![
                (3, t(code)),
                (4, t("000000001000")),
                (11, t(trace)),
                (22, t("012")),
                (25, t(condition)),
                (49, t("156")),
                (60, f60(kind, 1, None)),
            ];
            let optional = [
                (has("card"), 2, t(PAN)),
                (has("card"), 14, t(EXPIRY)),
                (has("rrn"), 37, t("123456789012")),
                (has("auth"), 38, t("A1B2C3")),
                (has("61"), 61, f61(1, 123, None)),
                (has("61+date"), 61, f61(1, 123, Some("1205"))),
                (has("mac"), 64, Value::Bytes(vec![0xa5; 8])),
                (has("98"), 39, t("98")),
            ];
            fields.extend(
                optional
                    .into_iter()
                    .filter(|(on, ..)| *on)
                    .map(|(_, n, v)| (n, v)),
            );
            (name, request(mti_text, fields))
        })
        .collect()
}

fn records(n: u32) -> Vec<UploadRecord> {
    (0..n)
        .map(|i| UploadRecord {
            kind: kind::SALE,
            trace: 100 + i,
            amount: 1000 + u64::from(i),
            rrn: format!("{:012}", 5000 + i),
        })
        .collect()
}

const TOTALS: Totals = Totals {
    debit_amount: 123_456,
    debit_count: 7,
    credit_amount: 2_000,
    credit_count: 1,
};

/// The management operations: name, MTI, trace, 60.3, and what else each carries (`op`: 63;
/// `totals`: 48 and 49 of a settlement; `records`: 48 with 8 records; `close`: 48 with none).
const MANAGEMENT: &[(&str, &str, &str, u16, &str)] = &[
    ("signin-0800", "0800", "000001", network::SIGN_IN, "op"),
    (
        "settle-0500",
        "0500",
        "000140",
        network::SETTLEMENT,
        "op totals",
    ),
    (
        "upload-0320",
        "0320",
        "000141",
        network::SETTLEMENT,
        "records",
    ),
    (
        "upload-close-0320",
        "0320",
        "000142",
        network::UPLOAD_CLOSE,
        "close",
    ),
    ("signoff-0820", "0820", "000143", network::SIGN_OFF, "op"),
    ("echo-0820", "0820", "000144", network::ECHO, ""),
];

fn management() -> Vec<(&'static str, Frame)> {
    MANAGEMENT
        .iter()
        .map(|&(name, mti_text, trace, code, extras)| {
            let has = |flag| extras.split(' ').any(|f| f == flag);
            let mut fields = vec![(11, t(trace)), (60, f60(kind::MANAGEMENT, 1, Some(code)))];
            if has("op") {
                fields.push((63, t(operator_text("01").expect("63"))));
            }
            if has("totals") {
                let settle = Settlement {
                    totals: TOTALS,
                    balance: None,
                };
                fields.extend([(48, t(settle.to_text().expect("48"))), (49, t("156"))]);
            }
            if has("records") || has("close") {
                let n = if has("records") { 8 } else { 0 };
                fields.push((48, t(upload_text(&records(n)).expect("48"))));
            }
            (name, request(mti_text, fields))
        })
        .collect()
}

/// The answer to a management request: its 11 and 60, and what the profile adds.
fn management_answer(name: &str, req: &Frame) -> Frame {
    let mut fields: Vec<(u8, Value)> = [11, 49, 60, 63]
        .into_iter()
        .filter_map(|n| req.message.fields.get(&n).map(|v| (n, v.clone())))
        .collect();
    fields.push((39, t("00")));
    if name.starts_with("signin") {
        fields.push((60, f60(0, 2, Some(network::SIGN_IN))));
        fields.push((62, Value::Bytes((0u8..24).collect())));
    }
    if name.starts_with("settle") {
        let totals = Totals {
            debit_amount: 123_456,
            debit_count: 7,
            credit_amount: 2_000,
            credit_count: 1,
        };
        let verdict = Settlement {
            totals,
            balance: Some(Balance::Unbalanced),
        };
        fields.extend([(15, t("1205")), (48, t(verdict.to_text().expect("48")))]);
    }
    answer(req, fields)
}

/// Every message type of the profile, requests and answers.
pub fn every_message() -> Vec<(String, Frame)> {
    let mut all = Vec::new();
    for (name, req) in financial() {
        let ans = answer(&req, approved(&req));
        all.push((name.to_owned(), req));
        all.push((format!("{name}-answer"), ans));
    }
    for (name, req) in management() {
        let ans = management_answer(name, &req);
        all.push((name.to_owned(), req));
        all.push((format!("{name}-answer"), ans));
    }
    all
}
