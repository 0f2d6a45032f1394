//! What a response code [应答码] means, in Chinese and English, from the terminal's own table:
//! the screen and the slip never show the host's `message`, which is English and the host's
//! choice of words.
//!
//! The table covers every code of the acquirer's ISO 8583 profile and the host's simulator,
//! with a few more common ones a real issuer sends; the texts are those a Chinese bank POS
//! shows. No two codes share a text in either language, so the cashier can tell any two
//! apart. A code not in the table has no text here: the screen then shows the code itself.

/// `(code, 中文, English)`, in code order.
const TEXTS: [(&str, &str, &str); 28] = [
    ("00", "交易成功", "Approved"),
    ("01", "请持卡人与发卡银行联系", "Refer to the card issuer"),
    ("03", "无效商户", "Invalid merchant"),
    ("04", "没收卡", "Pick up the card"),
    ("05", "不予承兑", "Do not honour"),
    ("12", "无效交易", "Invalid transaction"),
    ("13", "无效金额", "Invalid amount"),
    ("14", "无效卡号", "Invalid card number"),
    ("15", "无此发卡方", "No such issuer"),
    ("22", "操作有误，请重试", "Suspected malfunction, try again"),
    ("25", "找不到原始交易", "Original transaction not found"),
    ("30", "报文格式错误", "Format error"),
    ("33", "过期卡，请没收", "Expired card, pick up"),
    ("41", "挂失卡", "Lost card"),
    ("43", "被窃卡", "Stolen card"),
    ("51", "余额不足", "Insufficient funds"),
    ("54", "过期卡", "Expired card"),
    ("55", "密码错", "Incorrect PIN"),
    (
        "57",
        "不允许持卡人进行的交易",
        "Transaction not permitted to the cardholder",
    ),
    (
        "58",
        "不允许终端进行的交易",
        "Transaction not permitted to the terminal",
    ),
    ("61", "超出金额限制", "Exceeds the amount limit"),
    ("75", "密码错误次数超限", "PIN tries exceeded"),
    ("91", "发卡方不能操作", "Issuer unavailable"),
    ("94", "重复交易", "Duplicate transaction"),
    ("96", "系统故障", "System malfunction"),
    ("97", "终端未登记", "Terminal not registered"),
    (
        "98",
        "交易超时，发卡方无应答",
        "No answer from the issuer in time",
    ),
    ("A0", "MAC校验错", "MAC verification failed"),
];

/// Every code the terminal has words for, with its Chinese and English texts.
pub fn response_texts() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    TEXTS.iter().copied()
}

/// The text of a response code (`"05"` → 不予承兑 / `Do not honour`), in Chinese when `zh`,
/// else in English; letters match in either case (`a0` is `A0`). `None` for a code the
/// terminal does not know.
pub fn response_text(code: &str, zh: bool) -> Option<&'static str> {
    response_texts()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(code))
        .map(|(_, zh_text, en_text)| if zh { zh_text } else { en_text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The response codes of the acquirer's ISO 8583 profile, and those the host's simulator
    /// answers with.
    const PROFILE: [&str; 20] = [
        "00", "05", "14", "41", "43", "51", "54", "55", "57", "58", "61", "91", "96", "25", "12",
        "94", "98", "A0", "97", "03",
    ];

    #[test]
    fn every_profile_code_has_both_texts() {
        for code in PROFILE {
            let zh = response_text(code, true).unwrap_or_else(|| panic!("{code}: no zh"));
            let en = response_text(code, false).unwrap_or_else(|| panic!("{code}: no en"));
            assert!(!zh.is_ascii(), "{code}: {zh}");
            assert!(en.is_ascii() && !en.is_empty(), "{code}: {en}");
        }
    }

    #[test]
    fn texts_are_distinct_in_each_language_and_codes_unique() {
        let (mut codes, mut zh, mut en) = (HashSet::new(), HashSet::new(), HashSet::new());
        for (code, zh_text, en_text) in response_texts() {
            assert!(codes.insert(code), "{code} twice");
            assert!(zh.insert(zh_text), "{code}: {zh_text} twice");
            assert!(en.insert(en_text), "{code}: {en_text} twice");
            assert_eq!(code.len(), 2, "{code}");
            assert_eq!(code, code.to_ascii_uppercase(), "{code}");
        }
    }

    #[test]
    fn the_simulators_codes_and_the_banks_words() {
        for (code, zh, en) in [
            ("00", "交易成功", "Approved"),
            ("05", "不予承兑", "Do not honour"),
            ("51", "余额不足", "Insufficient funds"),
            ("54", "过期卡", "Expired card"),
            ("55", "密码错", "Incorrect PIN"),
            ("a0", "MAC校验错", "MAC verification failed"),
        ] {
            assert_eq!(response_text(code, true), Some(zh), "{code}");
            assert_eq!(response_text(code, false), Some(en), "{code}");
        }
    }

    #[test]
    fn an_unknown_code_has_no_text() {
        for code in ["", "0", "000", "99", "ZZ", "０５", "05 "] {
            assert_eq!(response_text(code, true), None, "{code:?}");
            assert_eq!(response_text(code, false), None, "{code:?}");
        }
    }
}
