//! The background task of `serve` that sends the jobs owed to the acquirer (docs/rules.md, R8
//! "Upstream") and the settlements of batches it owes the acquirer (R11), beside the daily
//! cut-off (`scheduler`).

use crate::acquirer::Acquirer;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Longest wait between two rounds: a job is due at most this late.
const POLL_MAX: Duration = Duration::from_secs(1);

/// Sends the jobs due, then the batch settlements due, round after round, for as long as the
/// host serves. Each one's own wait (1 s doubling to 5 minutes) is kept in its row, so a
/// restarted host goes on where the last one stopped.
pub(crate) async fn forwarder(store: Store, acquirer: Arc<dyn Acquirer>) {
    let poll = store.forwarding().first_retry.min(POLL_MAX);
    loop {
        if let Err(e) = store.forward_due(acquirer.as_ref()).await {
            tracing::error!(code = %e.code, message = %e.message, "sending upstream jobs failed");
        }
        // After the jobs: a batch's settlement goes after the reversals of its transactions.
        if let Err(e) = store.settle_due(acquirer.as_ref()).await {
            tracing::error!(code = %e.code, message = %e.message, "settling batches upstream failed");
        }
        tokio::time::sleep(poll).await;
    }
}
