//! Instants, passed in by the driver: the core never reads a clock.
//!
//! An instant is UTC; what a merchant sees and compares is the host's wall clock: the host
//! sends its offset from UTC at every sign-in ([`UtcOffset`]), and [`LocalTime`] is an
//! instant read in it. No time-zone database in the module: the host has one.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Milliseconds since the Unix epoch, UTC. The driver supplies it with every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Milliseconds since the epoch.
    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant plus some minutes, saturating.
    pub fn plus_minutes(self, minutes: u32) -> Timestamp {
        Timestamp(self.0.saturating_add(i64::from(minutes) * 60_000))
    }

    fn datetime(self) -> OffsetDateTime {
        // Out-of-range instants (beyond year ±9999) clamp to the epoch rather than panic;
        // no driver passes them, and a wrong journal timestamp is better than a dead terminal.
        // Seconds and milliseconds rather than i128 nanoseconds: 128-bit division is 1 KB of
        // code in the browser module.
        let millis = u16::try_from(self.0.rem_euclid(1000)).unwrap_or(0);
        OffsetDateTime::from_unix_timestamp(self.0.div_euclid(1000))
            .and_then(|dt| dt.replace_millisecond(millis))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 in UTC with milliseconds, as journals and results carry it.
    pub fn rfc3339(self) -> String {
        let dt = self.datetime();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    /// Parses RFC 3339 (any offset); `None` when it is not.
    pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
        let dt =
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
        i64::try_from(dt.unix_timestamp_nanos() / 1_000_000)
            .ok()
            .map(Timestamp)
    }

    /// Reads back the form [`Timestamp::rfc3339`] writes (`2026-11-28T00:00:00.123Z`, the
    /// milliseconds optional); `None` for anything else. Not the general RFC 3339 parser:
    /// that one is kilobytes of the browser module, and the terminal only reads its own.
    pub fn parse_utc(text: &str) -> Option<Timestamp> {
        let b = text.as_bytes();
        let num = |from: usize, to: usize| -> Option<u32> {
            let digits = b.get(from..to)?;
            digits.iter().try_fold(0u32, |n, d| {
                d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
            })
        };
        let millis = match b.get(19..) {
            Some(b"Z") => 0,
            Some([b'.', _, _, _, b'Z']) => num(20, 23)?,
            _ => return None,
        };
        let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| b.get(i) != Some(&c)) {
            return None;
        }
        let (year, month, day) = (i64::from(num(0, 4)?), num(5, 7)?, num(8, 10)?);
        let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        // Days since the epoch of a proleptic Gregorian date (H. Hinnant's days_from_civil),
        // a few lines of arithmetic where the calendar types would cost a kilobyte.
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * i64::from((month + 9) % 12) + 2) / 5 + i64::from(day) - 1;
        let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
        let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
        Some(Timestamp(secs * 1000 + i64::from(millis)))
    }

    /// This instant on the wall clock of `offset`.
    pub fn local(self, offset: UtcOffset) -> LocalTime {
        LocalTime { at: self, offset }
    }
}

/// Minutes east of UTC of the host's time zone now (Asia/Shanghai: +480). Zero, UTC, until a
/// host says otherwise.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub struct UtcOffset(i32);

impl From<UtcOffset> for i32 {
    fn from(o: UtcOffset) -> i32 {
        o.0
    }
}

impl TryFrom<i32> for UtcOffset {
    type Error = &'static str;
    fn try_from(minutes: i32) -> Result<UtcOffset, Self::Error> {
        UtcOffset::from_minutes(minutes).ok_or("a UTC offset within ±18 hours, in minutes")
    }
}

impl UtcOffset {
    /// UTC itself.
    pub const UTC: UtcOffset = UtcOffset(0);

    /// An offset of `minutes` east of UTC; `None` beyond ±18 hours, which no zone reaches.
    pub fn from_minutes(minutes: i32) -> Option<UtcOffset> {
        (-18 * 60..=18 * 60)
            .contains(&minutes)
            .then_some(UtcOffset(minutes))
    }

    /// Minutes east of UTC.
    pub fn minutes(self) -> i32 {
        self.0
    }
}

/// An instant read on a wall clock: the dates a terminal shows and compares (R4, R14, R21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// The instant.
    pub at: Timestamp,
    /// The wall clock's offset from UTC.
    pub offset: UtcOffset,
}

/// A bare instant is read in UTC.
impl From<Timestamp> for LocalTime {
    fn from(at: Timestamp) -> LocalTime {
        at.local(UtcOffset::UTC)
    }
}

impl LocalTime {
    fn datetime(self) -> OffsetDateTime {
        // The wall clock as if it were UTC: the fields are what matter, not the offset.
        Timestamp(self.at.0.saturating_add(i64::from(self.offset.0) * 60_000)).datetime()
    }

    /// The calendar date, `YYYY-MM-DD`, as the host writes its business date.
    pub fn date(self) -> String {
        let dt = self.datetime();
        format!(
            "{:04}-{:02}-{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day()
        )
    }

    /// Date and time to the second, `2026-12-04 16:49:00`, as slips print it.
    pub fn date_time(self) -> String {
        let dt = self.datetime();
        format!(
            "{} {:02}:{:02}:{:02}",
            self.date(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )
    }

    /// The calendar year and month (1..=12), for card expiry checks.
    pub fn year_month(self) -> (i32, u8) {
        let dt = self.datetime();
        (dt.year(), u8::from(dt.month()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_rfc3339() {
        let t = Timestamp(1_795_824_000_123); // 2026-11-28T00:00:00.123Z
        assert_eq!(t.rfc3339(), "2026-11-28T00:00:00.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.rfc3339()), Some(t));
        assert_eq!(
            Timestamp::parse_rfc3339("2026-11-28T08:00:00.123+08:00"),
            Some(t)
        );
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
        assert_eq!(Timestamp::parse_utc(&t.rfc3339()), Some(t));
        assert_eq!(
            Timestamp::parse_utc("2026-11-28T00:00:00Z"),
            Some(Timestamp(1_795_824_000_000))
        );
        // Every day of a leap year and its neighbours reads back to what was written.
        for day in -400..800 {
            let t = Timestamp(1_704_067_200_000 + day * 86_400_000 + 45_296_789);
            assert_eq!(
                Timestamp::parse_utc(&t.rfc3339()),
                Some(t),
                "{}",
                t.rfc3339()
            );
        }
        for bad in [
            "2026-11-28T08:00:00.123+08:00",
            "2026-11-28 00:00:00Z",
            "2026-13-28T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T00:00:00.12Z",
            "yesterday",
        ] {
            assert_eq!(Timestamp::parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn reads_an_instant_on_the_hosts_wall_clock() {
        // 2026-11-30T17:00:00Z is 01:00 on 1 December in Asia/Shanghai.
        let t = Timestamp(1_796_058_000_000);
        let shanghai = UtcOffset::from_minutes(480).unwrap();
        assert_eq!(LocalTime::from(t).date_time(), "2026-11-30 17:00:00");
        assert_eq!(LocalTime::from(t).year_month(), (2026, 11));
        assert_eq!(t.local(shanghai).date_time(), "2026-12-01 01:00:00");
        assert_eq!(t.local(shanghai).date(), "2026-12-01");
        assert_eq!(t.local(shanghai).year_month(), (2026, 12));
        let new_york = UtcOffset::from_minutes(-300).unwrap();
        assert_eq!(t.local(new_york).date_time(), "2026-11-30 12:00:00");
        assert_eq!(UtcOffset::from_minutes(18 * 60 + 1), None);
        assert_eq!(serde_json::to_string(&shanghai).unwrap(), "480");
        assert!(serde_json::from_str::<UtcOffset>("100000").is_err());
    }
}
