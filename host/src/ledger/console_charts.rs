//! R22 the console's pictures: the net amount per business day and terminal, and the
//! approved sales per local hour of a day, of the console session's merchant only.

use super::ConsoleSession;
use crate::console::{
    ConsoleDaily, ConsoleHour, ConsoleHourly, DailyNet, DailyQuery, HourSales, HourlyQuery,
};
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use jiff::civil::Date;
use std::str::FromStr;

/// Business days the daily picture shows by default.
const DEFAULT_DAYS: i64 = 30;
/// The most business days one request reads.
const MAX_DAYS: i64 = 366;
const HOUR_MS: i64 = 3_600_000;

fn date(text: &str) -> ApiResult<Date> {
    Date::from_str(text)
        .ok()
        .filter(|_| text.len() == 10)
        .ok_or_else(|| ApiError::bad_request("a date is YYYY-MM-DD"))
}

impl Store {
    /// `GET /v1/console/daily`: the net amount per business day and terminal, of the `days`
    /// business days up to the host's business date.
    pub async fn console_daily(
        &self,
        s: &ConsoleSession,
        q: &DailyQuery,
    ) -> ApiResult<ConsoleDaily> {
        let days = match q.days.as_deref().filter(|d| !d.is_empty()) {
            None => DEFAULT_DAYS,
            Some(d) => d
                .parse::<i64>()
                .ok()
                .filter(|d| (1..=MAX_DAYS).contains(d))
                .ok_or_else(|| ApiError::bad_request("days is 1 to 366"))?,
        };
        let to = date(&self.db().business_date().await?)?;
        let from = to.saturating_sub(jiff::Span::new().days(days - 1));
        let (from, to) = (from.to_string(), to.to_string());
        let nets = self
            .db()
            .daily_nets(&s.merchant_id, &from, &to)
            .await?
            .into_iter()
            .map(|r| DailyNet {
                business_date: r.business_date,
                terminal_id: r.terminal_id,
                currency: r.currency,
                net_amount: r.net_amount,
            })
            .collect();
        Ok(ConsoleDaily { from, to, nets })
    }

    /// `GET /v1/console/hourly`: the approved sales per hour of a local day (the host's time
    /// zone), every hour listed.
    pub async fn console_hourly(
        &self,
        s: &ConsoleSession,
        q: &HourlyQuery,
    ) -> ApiResult<ConsoleHourly> {
        let tz = self.time_zone().clone();
        let day = match q.date.as_deref().filter(|d| !d.is_empty()) {
            Some(d) => date(d)?,
            None => jiff::Timestamp::now().to_zoned(tz.clone()).date(),
        };
        let bad = |_| ApiError::bad_request("no such day in the host's time zone");
        let start = day
            .to_zoned(tz.clone())
            .map_err(bad)?
            .start_of_day()
            .map_err(bad)?;
        let end = day
            .tomorrow()
            .map_err(bad)?
            .to_zoned(tz.clone())
            .map_err(bad)?
            .start_of_day()
            .map_err(bad)?;
        let (start_ms, end_ms) = (
            start.timestamp().as_millisecond(),
            end.timestamp().as_millisecond(),
        );
        let rows = self
            .db()
            .hourly_sales(&s.merchant_id, start_ms, end_ms)
            .await?;
        let slots = (end_ms - start_ms + HOUR_MS - 1) / HOUR_MS;
        let mut hours = Vec::new();
        for slot in 0..slots {
            let at = jiff::Timestamp::from_millisecond(start_ms + slot * HOUR_MS)
                .map_err(ApiError::internal)?
                .to_zoned(tz.clone());
            let sales = rows
                .iter()
                .filter(|r| r.slot == slot)
                .map(|r| HourSales {
                    currency: r.currency.clone(),
                    count: u64::try_from(r.count).unwrap_or(0),
                    amount: r.amount,
                })
                .collect();
            hours.push(ConsoleHour {
                hour: u8::try_from(at.hour()).unwrap_or(0),
                starts_at: at.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                sales,
            });
        }
        Ok(ConsoleHourly {
            date: day.to_string(),
            timezone: tz.iana_name().map(str::to_owned),
            hours,
        })
    }
}
