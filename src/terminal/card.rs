//! Cards as keyed in (R4): a `Pan` that exists passed Luhn; an `Expiry` that exists is a
//! real month. Neither is `Serialize`: the full number and the expiry cannot be written to a
//! journal or a snapshot by accident, only their masked form.

use crate::error::{Error, ErrorCode};
use crate::terminal::time::LocalTime;
use std::fmt;

/// A primary account number: 13–19 digits passing the Luhn check.
#[derive(Clone, PartialEq, Eq)]
pub struct Pan(String);

/// The card brand, from the leading digits (BIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// 62
    UnionPay,
    /// 4
    Visa,
    /// 51–55, 2221–2720
    Mastercard,
    /// 34, 37
    Amex,
    /// 3528–3589
    Jcb,
    /// Anything else.
    Other,
}

impl Pan {
    /// Accepts digits with optional spaces or dashes between groups, as people type them.
    pub fn parse(input: &str) -> Result<Pan, Error> {
        let digits: String = input.chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(13..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::with_detail(
                ErrorCode::InvalidCard,
                "the card number must be 13 to 19 digits",
            ));
        }
        if !luhn_ok(&digits) {
            return Err(Error::with_detail(
                ErrorCode::InvalidCard,
                "the card number fails its check digit",
            ));
        }
        Ok(Pan(digits))
    }

    /// The digits, for the one request that carries them to the host.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// First 6 and last 4 digits, the rest as `*` (the only form that is ever stored).
    pub fn masked(&self) -> String {
        mask_digits(&self.0)
    }

    /// The brand, from the BIN.
    pub fn scheme(&self) -> Scheme {
        Scheme::of(&self.0)
    }
}

impl Scheme {
    /// The brand of a card number or its masked form (the BIN, its first digits, is kept
    /// in clear): what a slip prints beside the masked number (R21).
    pub fn of(card: &str) -> Scheme {
        // `get`, not indexing: no panic path is compiled in.
        let prefix = |n: usize| {
            card.get(..n)
                .and_then(|p| p.parse::<u32>().ok())
                .unwrap_or(0)
        };
        match (prefix(2), prefix(4)) {
            (62, _) => Scheme::UnionPay,
            (34 | 37, _) => Scheme::Amex,
            (51..=55, _) | (_, 2221..=2720) => Scheme::Mastercard,
            (_, 3528..=3589) => Scheme::Jcb,
            _ if card.starts_with('4') => Scheme::Visa,
            _ => Scheme::Other,
        }
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.masked())
    }
}

/// Masks a digit string: first 6 and last 4 kept. Shorter strings are masked whole.
pub fn mask_digits(digits: &str) -> String {
    let n = digits.len();
    match (digits.get(..6), digits.get(n.saturating_sub(4)..)) {
        (Some(first), Some(last)) if n >= 13 && digits.is_ascii() => {
            format!("{first}{}{last}", "*".repeat(n - 10))
        }
        _ => "*".repeat(n),
    }
}

fn luhn_ok(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 {
                    dd - 9
                } else {
                    dd
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// A card's expiry month, `MM/YY`; valid through the last day of that month.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    year: i32,
    month: u8,
}

impl Expiry {
    /// Parses `MM/YY` and refuses a month already past at `now`, on the host's wall clock (a
    /// bare `Timestamp` is UTC): a card of November is still good at 17:00 UTC on 30 November,
    /// but not at that instant in Shanghai, where it is 1 December.
    pub fn parse(input: &str, now: impl Into<LocalTime>) -> Result<Expiry, Error> {
        Expiry::parse_at(input, now.into())
    }

    // One copy whatever the caller passes: the browser module pays for each.
    fn parse_at(input: &str, now: LocalTime) -> Result<Expiry, Error> {
        let bad = || {
            Error::with_detail(
                ErrorCode::InvalidCard,
                "the expiry date must be MM/YY and not in the past",
            )
        };
        let (mm, yy) = input.trim().split_once('/').ok_or_else(bad)?;
        if mm.len() != 2 || yy.len() != 2 {
            return Err(bad());
        }
        let month: u8 = mm.parse().map_err(|_| bad())?;
        let yy: i32 = yy.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        let expiry = Expiry {
            year: 2000 + yy,
            month,
        };
        let (year, month_now) = now.year_month();
        if (expiry.year, expiry.month) < (year, month_now) {
            return Err(bad());
        }
        Ok(expiry)
    }

    /// Back to `MM/YY`, for the request to the host.
    pub fn to_mm_yy(self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }
}

impl fmt::Debug for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Expiry(**/**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::terminal::time::Timestamp;

    // 2026-11-28
    const NOW: Timestamp = Timestamp(1_795_824_000_000);

    #[test]
    fn r4_luhn_and_length() {
        assert!(Pan::parse("4111111111111111").is_ok());
        assert!(Pan::parse("4111 1111 1111 1111").is_ok());
        assert!(Pan::parse("6212345678901232").is_ok());
        for bad in [
            "4111111111111112",
            "411111111111",
            "41111111111111111111",
            "4111a11111111111",
            "",
        ] {
            assert_eq!(
                Pan::parse(bad).unwrap_err().code,
                ErrorCode::InvalidCard,
                "{bad}"
            );
        }
    }

    #[test]
    fn r4_masks_first_six_last_four() {
        let pan = Pan::parse("6212345678901232").unwrap();
        assert_eq!(pan.masked(), "621234******1232");
        assert!(!format!("{pan:?}").contains("6212345678901232"));
    }

    #[test]
    fn r4_expiry_not_in_the_past() {
        assert!(
            Expiry::parse("11/26", NOW).is_ok(),
            "this month is still valid"
        );
        assert!(Expiry::parse("12/30", NOW).is_ok());
        assert_eq!(
            Expiry::parse("10/26", NOW).unwrap_err().code,
            ErrorCode::InvalidCard
        );
        for bad in ["13/30", "00/30", "1/30", "12-30", "ab/cd", ""] {
            assert!(Expiry::parse(bad, NOW).is_err(), "{bad}");
        }
        assert_eq!(Expiry::parse("03/31", NOW).unwrap().to_mm_yy(), "03/31");
    }

    #[test]
    fn scheme_from_bin() {
        let s = |p: &str| Pan::parse(p).unwrap().scheme();
        assert_eq!(s("6212345678901232"), Scheme::UnionPay);
        assert_eq!(s("4111111111111111"), Scheme::Visa);
        assert_eq!(s("5555555555554444"), Scheme::Mastercard);
        assert_eq!(s("2223003122003222"), Scheme::Mastercard);
        assert_eq!(s("378282246310005"), Scheme::Amex);
        assert_eq!(s("3530111333300000"), Scheme::Jcb);
        assert_eq!(s("6011111111111117"), Scheme::Other);
    }
}
