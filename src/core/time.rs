//! Instants, passed in by the driver: the core never reads a clock.

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

    /// The UTC calendar year and month (1..=12), for card expiry checks.
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
        assert_eq!(t.year_month(), (2026, 11));
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }
}
