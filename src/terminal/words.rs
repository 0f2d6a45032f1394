//! An amount in words, as the cashier confirms a large sale before it is sent: the Chinese
//! capital form [大写金额] of cheques and invoices, and an English form.
//!
//! Both take minor units of a currency with two decimals (fen of CNY) and cover every amount
//! the terminal takes, up to [`MAX_AMOUNT`] (999 999 999.99). Zero is written out, a negative
//! amount gets a sign word in front (负, `minus`), and beyond the maximum there are no words
//! (an empty string): such an amount is refused long before anyone confirms it (R3).
//!
//! # 大写金额
//!
//! The digits 零壹贰叁肆伍陆柒捌玖 with the units 拾佰仟, 万 and 亿, then 元角分, written as
//! the People's Bank's rules for cheques allow, choosing one form where they allow two:
//!
//! - every digit is written with its unit, so ten is 壹拾 (the banking form, never a bare 拾):
//!   `1000` → 壹拾元整, `10000000` → 壹拾万元整;
//! - each run of zeros between two written digits is one 零, whichever units it spans (inside
//!   a group, across a 万 or 亿, or between 元 and 角/分): `20006800` → 贰拾万零陆拾捌元整,
//!   `10000000100` → 壹亿零壹元整, `1010000` → 壹万零壹佰元整, `168032` → 壹仟陆佰捌拾元零叁角贰分,
//!   `10700053` → 壹拾万零柒仟元零伍角叁分; zeros at the end are not written;
//! - 整 closes an amount that ends at 元 or 角 (`100` → 壹元整, `150` → 壹元伍角整); one with
//!   分 has none (`105` → 壹元零伍分);
//! - below one yuan there is no 零元 in front: `50` → 伍角整, `5` → 伍分, `55` → 伍角伍分;
//!   nothing at all is 零元整.
//!
//! # English
//!
//! The whole units in words (American style: no "and" inside a number, hyphens from twenty-one
//! to ninety-nine), then, when there are minor units, `and NN/100` as on an English cheque, then
//! the currency word as given (it is not made plural):
//! `20006800` → `two hundred thousand sixty-eight yuan`,
//! `20006845` → `two hundred thousand sixty-eight and 45/100 yuan`,
//! `5` → `zero and 05/100 yuan`, `0` → `zero yuan`.

use crate::terminal::money::MAX_AMOUNT;

const DIGITS: [&str; 10] = ["零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"];
/// The unit of a digit by its place inside a group of four.
const IN_GROUP: [&str; 4] = ["", "拾", "佰", "仟"];
/// The unit of a group of four digits: ones, 万 (10⁴), 亿 (10⁸).
const GROUPS: [&str; 3] = ["", "万", "亿"];
/// Digits of the largest whole amount: 999 999 999.
const WHOLE_DIGITS: u32 = 9;

/// The magnitude, if the amount is one there are words for.
fn magnitude(minor: i64) -> Option<u64> {
    let abs = minor.unsigned_abs();
    (abs <= MAX_AMOUNT.unsigned_abs()).then_some(abs)
}

/// Digits and their units, most significant first, with one 零 for each run of zeros between
/// two written digits.
struct Capital {
    out: String,
    written: bool,
    zeros: bool,
}

impl Capital {
    fn digit(&mut self, d: u64, unit: &str) {
        if d == 0 {
            self.zeros |= self.written;
            return;
        }
        if self.zeros {
            self.out.push('零');
            self.zeros = false;
        }
        // d is a single digit here.
        self.out
            .push_str(DIGITS.get(d as usize).copied().unwrap_or_default());
        self.out.push_str(unit);
        self.written = true;
    }
}

/// The 大写金额 of an amount in fen: `20006800` → 贰拾万零陆拾捌元整 (the module describes the
/// form). Beyond ±[`MAX_AMOUNT`], an empty string.
pub fn amount_in_chinese(minor: i64) -> String {
    let Some(abs) = magnitude(minor) else {
        return String::new();
    };
    let (yuan, jiao, fen) = (abs / 100, abs / 10 % 10, abs % 10);
    let mut c = Capital {
        out: String::new(),
        written: false,
        zeros: false,
    };
    if minor < 0 {
        c.out.push('负');
    }
    for place in (0..WHOLE_DIGITS).rev() {
        let scale = 10u64.pow(place);
        c.digit(yuan / scale % 10, IN_GROUP[(place % 4) as usize]);
        let group = yuan / scale % 10_000;
        if place % 4 == 0 && place > 0 && group != 0 {
            c.out.push_str(GROUPS[(place / 4) as usize]);
        }
    }
    if yuan > 0 {
        c.out.push('元');
    }
    c.digit(jiao, "角");
    c.digit(fen, "分");
    if abs == 0 {
        c.out.push_str("零元");
    }
    if fen == 0 {
        c.out.push('整');
    }
    c.out
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// 1..=999 in words, appended after a space when `out` has words already.
fn push_below_thousand(out: &mut Vec<String>, n: u64) {
    let (hundreds, rest) = (n / 100, n % 100);
    if hundreds > 0 {
        out.push(format!("{} hundred", ONES[hundreds as usize]));
    }
    match rest {
        0 => {}
        1..=19 => out.push(ONES[rest as usize].to_owned()),
        _ => match (TENS[(rest / 10) as usize], rest % 10) {
            (tens, 0) => out.push(tens.to_owned()),
            (tens, one) => out.push(format!("{tens}-{}", ONES[one as usize])),
        },
    }
}

/// A whole number below a billion in words.
fn whole_in_english(n: u64) -> String {
    if n == 0 {
        return ONES[0].to_owned();
    }
    let mut words = Vec::new();
    for (scale, name) in [(1_000_000, " million"), (1_000, " thousand"), (1, "")] {
        let part = n / scale % 1000;
        if part > 0 {
            push_below_thousand(&mut words, part);
            if let Some(last) = words.last_mut() {
                last.push_str(name);
            }
        }
    }
    words.join(" ")
}

/// An amount in minor units in English words, the currency word last:
/// `amount_in_english(20006845, "yuan")` → `two hundred thousand sixty-eight and 45/100 yuan`
/// (the module describes the form). Beyond ±[`MAX_AMOUNT`], an empty string.
pub fn amount_in_english(minor: i64, currency_word: &str) -> String {
    let Some(abs) = magnitude(minor) else {
        return String::new();
    };
    let mut out = String::new();
    if minor < 0 {
        out.push_str("minus ");
    }
    out.push_str(&whole_in_english(abs / 100));
    if abs % 100 != 0 {
        out.push_str(&format!(" and {:02}/100", abs % 100));
    }
    if !currency_word.is_empty() {
        out.push(' ');
        out.push_str(currency_word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The value of a capital digit, 1..=9.
    fn digit_of(ch: char) -> Option<i64> {
        DIGITS[1..]
            .iter()
            .position(|d| d.starts_with(ch))
            .map(|i| i as i64 + 1)
    }

    /// Reads the whole yuan of a 大写金额: digit-unit pairs, 万 and 亿 closing their groups,
    /// a 零 only before a digit.
    fn read_yuan(text: &str) -> Option<i64> {
        let (mut total, mut group, mut pending) = (0i64, 0i64, None);
        let chars: Vec<char> = text.chars().collect();
        for (i, &ch) in chars.iter().enumerate() {
            let unit = match ch {
                '拾' => 10,
                '佰' => 100,
                '仟' => 1000,
                '万' | '亿' => {
                    group += pending.take().unwrap_or(0);
                    total += group * if ch == '万' { 10_000 } else { 100_000_000 };
                    group = 0;
                    continue;
                }
                '零' => {
                    let next = chars.get(i + 1).copied().and_then(digit_of);
                    if i == 0 || pending.is_some() || next.is_none() {
                        return None;
                    }
                    continue;
                }
                _ => {
                    if pending.replace(digit_of(ch)?).is_some() {
                        return None;
                    }
                    continue;
                }
            };
            group += pending.take()? * unit;
        }
        Some(total + group + pending.unwrap_or(0))
    }

    /// Reads a 大写金额 back, checking its shape: every digit has its unit, a 零 stands
    /// between two written digits only, 整 ends an amount without 分.
    fn read_chinese(words: &str) -> Option<i64> {
        let (sign, rest) = match words.strip_prefix('负') {
            Some(rest) => (-1, rest),
            None => (1, words),
        };
        if rest == "零元整" {
            return Some(0);
        }
        let (body, whole) = match rest.strip_suffix('整') {
            Some(body) => (body, true),
            None => (rest, false),
        };
        let (yuan, frac) = match body.split_once('元') {
            Some((yuan, frac)) => (read_yuan(yuan).filter(|y| *y > 0)?, frac),
            None => (0, body),
        };
        let ling = frac.starts_with('零');
        let frac = match frac.strip_prefix('零') {
            Some(after) if yuan > 0 && !after.is_empty() => after,
            Some(_) => return None,
            None => frac,
        };
        let mut chars = frac.chars().peekable();
        let mut minor = 0;
        for (unit, value) in [('角', 10), ('分', 1)] {
            let mut ahead = chars.clone();
            if let (Some(d), Some(u)) = (ahead.next().and_then(digit_of), ahead.next()) {
                if u == unit {
                    minor += d * value;
                    chars = ahead;
                }
            }
        }
        let has_fen = frac.ends_with('分');
        if chars.next().is_some() || whole == has_fen || yuan == 0 && minor == 0 {
            return None;
        }
        // Zeros between the last digit of the yuan and the first of jiao or fen: one 零.
        if ling != (yuan > 0 && minor > 0 && (yuan % 10 == 0 || minor < 10)) {
            return None;
        }
        Some(sign * (yuan * 100 + minor))
    }

    #[test]
    fn the_issues_example_and_the_banking_examples() {
        for (minor, words) in [
            (20_006_800, "贰拾万零陆拾捌元整"),
            (12_345, "壹佰贰拾叁元肆角伍分"),
            (105, "壹元零伍分"),
            (168_032, "壹仟陆佰捌拾元零叁角贰分"),
            (1_640_902, "壹万陆仟肆佰零玖元零贰分"),
            (32_504, "叁佰贰拾伍元零肆分"),
            (10_700_053, "壹拾万零柒仟元零伍角叁分"),
            (1_000_000, "壹万元整"),
        ] {
            assert_eq!(amount_in_chinese(minor), words, "{minor}");
        }
    }

    #[test]
    fn below_one_yuan_zero_and_negative() {
        for (minor, words) in [
            (0, "零元整"),
            (1, "壹分"),
            (5, "伍分"),
            (50, "伍角整"),
            (55, "伍角伍分"),
            (100, "壹元整"),
            (150, "壹元伍角整"),
            (-12_345, "负壹佰贰拾叁元肆角伍分"),
            (-5, "负伍分"),
        ] {
            assert_eq!(amount_in_chinese(minor), words, "{minor}");
        }
    }

    #[test]
    fn ten_is_written_with_its_one_and_groups_join_with_one_zero() {
        for (minor, words) in [
            (1_000, "壹拾元整"),
            (1_500, "壹拾伍元整"),
            (10_000_000, "壹拾万元整"),
            (1_000_000_000, "壹仟万元整"),
            (1_010_000, "壹万零壹佰元整"),
            (10_010_000, "壹拾万零壹佰元整"),
            (100_100_000, "壹佰万零壹仟元整"),
            (10_000_000_000, "壹亿元整"),
            (10_000_000_100, "壹亿零壹元整"),
            (10_000_100_000, "壹亿零壹仟元整"),
            (10_001_000_000, "壹亿零壹万元整"),
            (10_010_000_000, "壹亿零壹拾万元整"),
            (10_100_000_000, "壹亿零壹佰万元整"),
            (11_000_000_000, "壹亿壹仟万元整"),
            (10_000_000_001, "壹亿元零壹分"),
            (10_000_000_010, "壹亿元零壹角整"),
            (100_100, "壹仟零壹元整"),
            (1_001_000, "壹万零壹拾元整"),
        ] {
            assert_eq!(amount_in_chinese(minor), words, "{minor}");
        }
    }

    #[test]
    fn every_digit_in_every_place() {
        const PLACES: [&str; 11] = [
            "分",
            "角整",
            "元整",
            "拾元整",
            "佰元整",
            "仟元整",
            "万元整",
            "拾万元整",
            "佰万元整",
            "仟万元整",
            "亿元整",
        ];
        for (place, unit) in PLACES.iter().enumerate() {
            for d in 1..=9 {
                let minor = d * 10i64.pow(place as u32);
                assert_eq!(
                    amount_in_chinese(minor),
                    format!("{}{unit}", DIGITS[d as usize]),
                    "{minor}"
                );
            }
        }
    }

    #[test]
    fn a_zero_in_every_place_is_one_ling_or_nothing() {
        let all_ones = 11_111_111_111i64;
        // The leading digit aside, which a zero would only remove.
        for place in 0..10 {
            let minor = all_ones - 10i64.pow(place);
            let words = amount_in_chinese(minor);
            // Inside the number the zero is a 零; as the last digit (分) it is not written.
            let lings = words.matches('零').count();
            assert_eq!(lings, usize::from(place > 0), "{minor}: {words}");
            assert_eq!(read_chinese(&words), Some(minor), "{words}");
        }
    }

    #[test]
    fn the_largest_amount_and_beyond() {
        assert_eq!(
            amount_in_chinese(MAX_AMOUNT),
            "玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"
        );
        assert_eq!(
            amount_in_chinese(-MAX_AMOUNT),
            "负玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"
        );
        for beyond in [MAX_AMOUNT + 1, -MAX_AMOUNT - 1, i64::MAX, i64::MIN] {
            assert_eq!(amount_in_chinese(beyond), "");
            assert_eq!(amount_in_english(beyond, "yuan"), "");
        }
    }

    #[test]
    fn english_words() {
        for (minor, words) in [
            (20_006_800, "two hundred thousand sixty-eight yuan"),
            (
                20_006_845,
                "two hundred thousand sixty-eight and 45/100 yuan",
            ),
            (0, "zero yuan"),
            (5, "zero and 05/100 yuan"),
            (100, "one yuan"),
            (1_100, "eleven yuan"),
            (2_000, "twenty yuan"),
            (10_500, "one hundred five yuan"),
            (1_000_000, "ten thousand yuan"),
            (-12_345, "minus one hundred twenty-three and 45/100 yuan"),
            (10_000_000_100, "one hundred million one yuan"),
            (
                MAX_AMOUNT,
                "nine hundred ninety-nine million nine hundred ninety-nine thousand \
                 nine hundred ninety-nine and 99/100 yuan",
            ),
        ] {
            assert_eq!(amount_in_english(minor, "yuan"), words, "{minor}");
        }
        assert_eq!(amount_in_english(250, ""), "two and 50/100");
    }

    /// Reads the English form back.
    fn read_english(words: &str) -> Option<i64> {
        let words = words.strip_suffix(" yuan")?;
        let (sign, words) = match words.strip_prefix("minus ") {
            Some(rest) => (-1, rest),
            None => (1, words),
        };
        let (whole, minor) = match words.split_once(" and ") {
            Some((whole, frac)) => (whole, frac.strip_suffix("/100")?.parse::<i64>().ok()?),
            None => (words, 0),
        };
        let (mut total, mut part) = (0i64, 0i64);
        for word in whole.split([' ', '-']) {
            if let Some(n) = ONES.iter().position(|w| *w == word) {
                part += n as i64;
            } else if let Some(n) = TENS.iter().position(|w| !w.is_empty() && *w == word) {
                part += 10 * n as i64;
            } else {
                let scale = match word {
                    "hundred" => {
                        part *= 100;
                        continue;
                    }
                    "thousand" => 1_000,
                    "million" => 1_000_000,
                    _ => return None,
                };
                total += part * scale;
                part = 0;
            }
        }
        Some(sign * ((total + part) * 100 + minor))
    }

    /// Runs of zeros between two nonzero digits of the amount: one 零 each.
    fn zero_runs(minor: i64) -> usize {
        if minor == 0 {
            return 1; // 零元整
        }
        let digits = minor.unsigned_abs().to_string();
        let inner = digits.trim_end_matches('0');
        inner
            .split(|c| c != '0')
            .filter(|run| !run.is_empty())
            .count()
    }

    proptest! {
        #[test]
        fn any_amount_reads_back_from_its_words(minor in -MAX_AMOUNT..=MAX_AMOUNT) {
            let zh = amount_in_chinese(minor);
            prop_assert_eq!(read_chinese(&zh), Some(minor), "{}", zh);
            prop_assert_eq!(zh.matches('零').count(), zero_runs(minor), "{}", zh);
            let en = amount_in_english(minor, "yuan");
            prop_assert_eq!(read_english(&en), Some(minor), "{}", en);
        }

        #[test]
        fn distinct_amounts_have_distinct_words(
            a in -MAX_AMOUNT..=MAX_AMOUNT,
            b in -MAX_AMOUNT..=MAX_AMOUNT,
        ) {
            prop_assume!(a != b);
            prop_assert_ne!(amount_in_chinese(a), amount_in_chinese(b));
            prop_assert_ne!(amount_in_english(a, "yuan"), amount_in_english(b, "yuan"));
        }

        #[test]
        fn no_amount_panics(minor in any::<i64>(), word in "\\PC{0,8}") {
            let _ = amount_in_chinese(minor);
            let _ = amount_in_english(minor, &word);
        }

        /// Amounts near each other differ in a digit or two: the words still differ.
        #[test]
        fn neighbours_have_distinct_words(minor in 0..MAX_AMOUNT) {
            prop_assert_ne!(amount_in_chinese(minor), amount_in_chinese(minor + 1));
            prop_assert_ne!(amount_in_english(minor, "yuan"), amount_in_english(minor + 1, "yuan"));
        }
    }
}
