//! The daily cut-off of R15 inside `serve`: on time every day, caught up at start, and tried
//! again soon after a failure.

use crate::store::{CutoffClock, Store};
use std::time::Duration;

/// Longest wait between two tries of a failed cut-off.
const CUTOFF_RETRY_MAX: Duration = Duration::from_secs(30 * 60);

/// The wait before try `failures + 1` of a cut-off that failed `failures` times: `first`,
/// doubled each time, at most [`CUTOFF_RETRY_MAX`].
fn cutoff_backoff(first: Duration, failures: u32) -> Duration {
    first
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(CUTOFF_RETRY_MAX)
}

/// R15: runs the cut-off at the configured local time every day. A host that was down at
/// cut-off time catches up at start, so yesterday's batches do not stay open into today. A
/// failed run (or a failed check for a missed one: the database unreachable, a bad row) is
/// tried again after `retry`, doubling up to 30 minutes, until it succeeds, instead of a day
/// later.
pub(crate) async fn cutoff_scheduler(store: Store, clock: CutoffClock, retry: Duration) {
    let mut failures = 0u32;
    let mut catching_up = true;
    loop {
        if failures > 0 {
            tokio::time::sleep(cutoff_backoff(retry, failures)).await;
        } else if !catching_up {
            tokio::time::sleep(clock.until_next()).await;
        }
        let result = if catching_up {
            match store.cutoff_overdue(&clock).await {
                Ok(false) => {
                    catching_up = false;
                    failures = 0;
                    continue;
                }
                Ok(true) => store.cutoff(&clock, true).await,
                Err(e) => Err(e),
            }
        } else {
            store.cutoff(&clock, true).await
        };
        match result {
            Ok(report) => {
                failures = 0;
                catching_up = false;
                tracing::info!(
                    closed_date = ?report.closed_date,
                    closed_batches = report.closed_batches,
                    business_date = %report.business_date,
                    "cut-off"
                );
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(
                    code = %e.code,
                    message = %e.message,
                    failures,
                    retry_in_s = cutoff_backoff(retry, failures).as_secs(),
                    "cut-off failed; trying again"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r15_a_failed_cutoff_is_tried_again_within_minutes_not_a_day_later() {
        let minute = Duration::from_secs(60);
        let waits: Vec<u64> = (1..=7)
            .map(|n| cutoff_backoff(minute, n).as_secs() / 60)
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(cutoff_backoff(minute, u32::MAX), CUTOFF_RETRY_MAX);
    }
}
