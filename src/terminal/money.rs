//! Money: integer minor units and the currencies that give them meaning. No floats, ever.

use crate::error::{Error, ErrorCode};
use crate::protocol::codec::{Decode, Encode, Unreadable, Value, BAD};
use crate::protocol::shape::{Ts, TsRef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest amount one transaction may carry (docs/rules.md, "Identifiers and amounts").
pub const MAX_AMOUNT: i64 = 99_999_999_999;

/// A transaction amount: minor units in `1..=MAX_AMOUNT`. One that exists is valid (R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Amount(i64);

impl Amount {
    /// Checks R3: zero, negative and above the maximum are `INVALID_AMOUNT`.
    pub fn new(minor_units: i64) -> Result<Amount, Error> {
        if (1..=MAX_AMOUNT).contains(&minor_units) {
            Ok(Amount(minor_units))
        } else {
            Err(Error::with_detail(
                ErrorCode::InvalidAmount,
                // The host answers with this message, and an answer never repeats what was sent.
                format_args!("an amount is 1..={MAX_AMOUNT} minor units"),
            ))
        }
    }

    /// Minor units.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = i64::deserialize(d)?;
        Amount::new(raw).map_err(serde::de::Error::custom)
    }
}

/// The amount above which the cashier confirms a sale, with the amount in words, before it is
/// sent: minor units in `1..=MAX_AMOUNT`, set per terminal on the host
/// (`terminal add --confirm-above`) and told at each sign-in. One that exists is valid.
///
/// Absent or `null` (an answer from a host that predates it, a state record written before the
/// terminal kept it) reads as the default, [`ConfirmAbove::DEFAULT`]; serde and the browser's
/// reader agree on that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "Option<i64>", into = "i64")]
pub struct ConfirmAbove(i64);

impl ConfirmAbove {
    /// ¥10 000.00 in fen: what a terminal asks above unless its merchant chose otherwise.
    pub const DEFAULT: ConfirmAbove = ConfirmAbove(1_000_000);

    /// Minor units.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Default for ConfirmAbove {
    fn default() -> Self {
        ConfirmAbove::DEFAULT
    }
}

impl TryFrom<i64> for ConfirmAbove {
    type Error = &'static str;
    fn try_from(minor_units: i64) -> Result<ConfirmAbove, &'static str> {
        if (1..=MAX_AMOUNT).contains(&minor_units) {
            Ok(ConfirmAbove(minor_units))
        } else {
            Err("a confirmation threshold is 1..=99999999999 minor units")
        }
    }
}

impl TryFrom<Option<i64>> for ConfirmAbove {
    type Error = &'static str;
    fn try_from(minor_units: Option<i64>) -> Result<ConfirmAbove, &'static str> {
        minor_units.map_or(Ok(ConfirmAbove::DEFAULT), ConfirmAbove::try_from)
    }
}

impl From<ConfirmAbove> for i64 {
    fn from(c: ConfirmAbove) -> i64 {
        c.0
    }
}

/// The browser's reader takes what serde takes: absent and `null` are the default.
impl Decode for ConfirmAbove {
    fn decode<V: Value>(v: &V) -> Result<Self, Unreadable> {
        ConfirmAbove::try_from(Option::<i64>::decode(v)?).map_err(|_| BAD)
    }
    fn stand_in() -> Self {
        ConfirmAbove::DEFAULT
    }
}

impl Encode for ConfirmAbove {
    fn encode<V: Value>(&self) -> V {
        V::integer(self.0)
    }
}

impl TsRef for ConfirmAbove {
    const TS: Ts = Ts::new().push("number");
}

/// An ISO 4217 currency the terminal knows how to count and show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    /// Chinese yuan, fen.
    Cny,
    /// Hong Kong dollar, cents.
    Hkd,
    /// US dollar, cents.
    Usd,
    /// Euro, cents.
    Eur,
    /// Pound sterling, pence.
    Gbp,
    /// Japanese yen, no minor unit.
    Jpy,
    /// South Korean won, no minor unit.
    Krw,
    /// Kuwaiti dinar, fils (three digits).
    Kwd,
}

impl Currency {
    /// Every currency, for tests and pickers.
    pub const ALL: [Currency; 8] = [
        Currency::Cny,
        Currency::Hkd,
        Currency::Usd,
        Currency::Eur,
        Currency::Gbp,
        Currency::Jpy,
        Currency::Krw,
        Currency::Kwd,
    ];

    /// Parses an ISO 4217 alphabetic code; an unknown code is `BAD_REQUEST`.
    pub fn parse(code: &str) -> Result<Currency, Error> {
        Self::ALL
            .into_iter()
            .find(|c| c.code() == code)
            .ok_or_else(|| {
                Error::with_detail(
                    ErrorCode::BadRequest,
                    "unsupported currency: one of CNY, HKD, USD, EUR, GBP, JPY, KRW, KWD",
                )
            })
    }

    /// The ISO 4217 alphabetic code.
    pub fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Hkd => "HKD",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Krw => "KRW",
            Currency::Kwd => "KWD",
        }
    }

    /// Digits after the decimal point (ISO 4217 exponent).
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Jpy | Currency::Krw => 0,
            Currency::Kwd => 3,
            _ => 2,
        }
    }

    /// The symbol in front of the amount, or `None` where the code follows it instead.
    fn prefix(self) -> Option<&'static str> {
        match self {
            Currency::Cny => Some("¥"),
            Currency::Hkd => Some("HK$"),
            Currency::Usd => Some("$"),
            Currency::Eur => Some("€"),
            Currency::Gbp => Some("£"),
            // Plain ¥ is the yuan's sign at a Chinese counter; the yen needs telling apart.
            Currency::Jpy => Some("JP¥"),
            Currency::Krw => Some("₩"),
            Currency::Kwd => None,
        }
    }

    /// Shows minor units as people read them: `¥12.50`, `JP¥1,250`, `12.500 KWD`, `-¥3.00`.
    pub fn format(self, minor_units: i64) -> String {
        let exp = self.exponent();
        let abs = minor_units.unsigned_abs();
        let unit = 10u64.pow(exp);
        let whole = group_thousands(abs / unit);
        let number = if exp == 0 {
            whole
        } else {
            format!("{whole}.{:0width$}", abs % unit, width = exp as usize)
        };
        let sign = if minor_units < 0 { "-" } else { "" };
        match self.prefix() {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {}", self.code()),
        }
    }
}

impl Currency {
    /// Reads an amount as people type it (`12.5`, `12.50`, `1,250`) into minor units,
    /// exactly: no floats. More decimals than the currency has is `INVALID_AMOUNT`.
    pub fn parse_amount(self, text: &str) -> Result<i64, Error> {
        let bad = || {
            Error::with_detail(
                ErrorCode::InvalidAmount,
                format_args!("\"{text}\" is not an amount"),
            )
        };
        let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
        let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let exp = self.exponent() as usize;
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() && frac.is_empty()
            || !digits(whole)
            || !digits(frac)
            || frac.len() > exp
        {
            return Err(bad());
        }
        let mut units: i64 = 0;
        for b in whole
            .bytes()
            .chain(frac.bytes())
            .chain(std::iter::repeat_n(b'0', exp - frac.len()))
        {
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(i64::from(b - b'0')))
                .ok_or_else(bad)?;
        }
        Amount::new(units).map(Amount::get)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r3_amount_bounds() {
        assert_eq!(Amount::new(0).unwrap_err().code, ErrorCode::InvalidAmount);
        assert_eq!(Amount::new(-1).unwrap_err().code, ErrorCode::InvalidAmount);
        assert_eq!(
            Amount::new(MAX_AMOUNT + 1).unwrap_err().code,
            ErrorCode::InvalidAmount
        );
        assert_eq!(Amount::new(1).unwrap().get(), 1);
        assert_eq!(Amount::new(MAX_AMOUNT).unwrap().get(), MAX_AMOUNT);
        assert!(serde_json::from_str::<Amount>("0").is_err());
        assert!(serde_json::from_str::<Amount>("1.5").is_err());
    }

    #[test]
    fn formats_each_exponent() {
        assert_eq!(Currency::Cny.format(1250), "¥12.50");
        assert_eq!(Currency::Jpy.format(1250), "JP¥1,250");
        assert_eq!(Currency::Kwd.format(12500), "12.500 KWD");
        assert_eq!(Currency::Usd.format(123_456_789), "$1,234,567.89");
        assert_eq!(Currency::Cny.format(-300), "-¥3.00");
        assert_eq!(Currency::Cny.format(5), "¥0.05");
        assert_eq!(Currency::Krw.format(0), "₩0");
        assert_eq!(
            Currency::Cny.format(MAX_AMOUNT),
            "¥999,999,999.99",
            "the largest amount still shows exactly"
        );
    }

    #[test]
    fn r3_typed_amounts_become_exact_minor_units() {
        assert_eq!(Currency::Cny.parse_amount("12.5").unwrap(), 1250);
        assert_eq!(Currency::Cny.parse_amount("12.50").unwrap(), 1250);
        assert_eq!(Currency::Cny.parse_amount(".05").unwrap(), 5);
        assert_eq!(Currency::Jpy.parse_amount("1,250").unwrap(), 1250);
        assert_eq!(Currency::Kwd.parse_amount("1.234").unwrap(), 1234);
        for bad in [
            "",
            ".",
            "12.345",
            "1e3",
            "-1",
            "0",
            "0.00",
            "abc",
            "999999999999999999999",
        ] {
            let e = Currency::Cny.parse_amount(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidAmount, "{bad}");
        }
        assert!(
            Currency::Jpy.parse_amount("12.5").is_err(),
            "yen has no minor unit"
        );
    }

    #[test]
    fn currency_codes_round_trip() {
        for c in Currency::ALL {
            assert_eq!(Currency::parse(c.code()).unwrap(), c);
        }
        assert_eq!(
            Currency::parse("XXX").unwrap_err().code,
            ErrorCode::BadRequest
        );
    }
}
