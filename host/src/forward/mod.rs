//! Store-and-forward toward the acquirer (docs/rules.md, R8 "Upstream"): what the host owes
//! the acquirer after a sale, void or refund whose outcome upstream is unknown (or that the
//! terminal reversed while the acquirer was approving it) is a job, queued in the transaction
//! that books the answer, and sent until the acquirer answers. A reversal (0400) undoes a sale
//! or void; a refund is sent again as it was (an advice), and reversed in turn only when the
//! acquirer approves it, since the terminal was told it was declined.
//!
//! A terminal's jobs go before its next sale, void or refund ([`Store::forward_terminal`]); the
//! background task (`task`) sends the rest, with backoff. Any answer acknowledges a reversal.
//! A sale's card is kept only sealed (`card`), and goes with its job.
//!
//! What the acquirer approved and the terminal was answered may still be reversed by the
//! terminal (R8, its answer lost on the way): its reversal is kept on standby, never due, until
//! the terminal reverses it ([`Tx::wake_standby`](crate::db::Tx::wake_standby)) or moves on to
//! its next operation ([`Store::end_standby`]).

mod card;
mod stored;
mod task;

pub use card::DataKey;
pub(crate) use task::forwarder;

use crate::acquirer::{exchange, Acquirer, Answer, Request, Reversal, ReversalReason};
use crate::db::{due_jobs, terminal_jobs, JobRow, NewJob, TerminalRef, Tx, STANDBY};
use crate::error::{ApiError, ApiResult};
use crate::store::{now_ms, Store};
use std::sync::Arc;
use std::time::Duration;

/// Longest wait between two tries of a job.
const RETRY_MAX: Duration = Duration::from_secs(5 * 60);
/// Jobs the background task takes in one round.
pub(crate) const ROUND: i64 = 32;
/// Jobs a terminal's next message may wait for (an advice approved leaves a reversal behind).
const BEFORE_NEXT_MAX: usize = 64;

/// What the host owes the acquirer for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owed {
    /// A 0400 with this reason.
    Reversal(ReversalReason),
    /// The refund again.
    Advice,
}

impl Owed {
    /// What is owed after the acquirer answered `answer` to `request`; `kept`: the host keeps
    /// the transaction (no reversal from the terminal overtook it).
    pub(crate) fn after(request: &Request, answer: &Answer, kept: bool) -> Option<Owed> {
        match answer {
            Answer::Unknown if matches!(request, Request::Refund(_)) => Some(Owed::Advice),
            Answer::Unknown => Some(Owed::Reversal(ReversalReason::NoAnswer)),
            a if a.approved() && !kept => Some(Owed::Reversal(ReversalReason::Other)),
            Answer::Answered { .. } => None,
        }
    }

    fn columns(self) -> (&'static str, Option<&'static str>) {
        match self {
            Owed::Reversal(ReversalReason::NoAnswer) => ("reversal", Some("98")),
            Owed::Reversal(ReversalReason::Other) => ("reversal", Some("06")),
            Owed::Advice => ("advice", None),
        }
    }

    fn of_row(job: &JobRow) -> ApiResult<Owed> {
        match (job.kind.as_str(), job.reason.as_deref()) {
            ("reversal", Some("98")) => Ok(Owed::Reversal(ReversalReason::NoAnswer)),
            ("reversal", _) => Ok(Owed::Reversal(ReversalReason::Other)),
            ("advice", _) => Ok(Owed::Advice),
            (kind, _) => Err(crate::db::bad_row("upstream_jobs.kind", kind)),
        }
    }
}

/// What stands before a terminal's next message upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ahead {
    /// Nothing owed: it may go.
    Clear,
    /// A message owed got no answer again: it may not go (the acquirer would see it before
    /// the reversal of the one before).
    Unanswered,
    /// A message owed is being sent right now, by the background task or another request.
    Elsewhere,
}

/// What became of one try of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Answered,
    Unanswered,
    /// Held by another sender (or, for the background task, not due).
    Elsewhere,
}

/// The host's settings for jobs: the data key (`serve --data-key-file`) and the first wait
/// before a job is tried again.
#[derive(Debug, Clone)]
pub struct Forwarding {
    /// Without it no card is kept; only an acquirer that reads no card (the simulator) may run
    /// so.
    pub key: Option<Arc<DataKey>>,
    /// Doubles after each try without an answer, up to 5 minutes.
    pub first_retry: Duration,
    /// How long a process holds the job it queues before asking the acquirer
    /// ([`Store::arm`]): longer than any exchange with the acquirer (its timeout stays below
    /// the terminal's), so the job goes out only when the process died before the answer came.
    pub armed_for: Duration,
    /// How long a process holds a job it is sending ([`Forwarding::lease_for`]): longer than
    /// any exchange with the acquirer, so two processes never send the same job at once, and
    /// no longer, because a job held by a process that died holds up its terminal's next
    /// message (`BUSY`) until the lease ends.
    pub lease: Duration,
    /// How long the terminal's settlement waits for the acquirer's verdict on the batch before
    /// its answer says `pending` (R11): well below the terminal's own wait, and the settlement
    /// with the acquirer goes on after it.
    pub settle_wait: Duration,
}

impl Forwarding {
    /// The lease for an acquirer that waits `timeout` for an answer: a message may need a
    /// sign-in first (the acquirer asked for one, or a MAC key is missing), so two exchanges,
    /// and a margin for the database.
    pub fn lease_for(timeout: Duration) -> Duration {
        timeout.saturating_mul(2) + Duration::from_secs(5)
    }
}

impl Default for Forwarding {
    fn default() -> Self {
        Forwarding {
            key: None,
            first_retry: Duration::from_secs(1),
            armed_for: Duration::from_secs(120),
            lease: Forwarding::lease_for(Duration::from_secs(15)),
            settle_wait: Duration::from_secs(3),
        }
    }
}

/// The wait after try `tries` of a job went unanswered.
pub(crate) fn retry_after(first: Duration, tries: i64) -> Duration {
    let doublings = u32::try_from(tries.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    first
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(RETRY_MAX)
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Queues, with a sale, void or refund booked pending, what would be owed upstream if the
    /// host died before the acquirer answered: held by this process ([`Forwarding::armed_for`]) until
    /// [`Store::owed_after`] settles it with the answer, so it goes out only after a crash.
    pub(crate) async fn arm(
        &self,
        tx: &mut Tx,
        terminal: TerminalRef<'_>,
        transaction_id: i64,
        request: &Request,
    ) -> ApiResult<()> {
        let Some(owed) = Owed::after(request, &Answer::Unknown, true) else {
            return Ok(());
        };
        // Due only when the hold ends: until then the terminal's next message does not wait
        // for it.
        let until = now_ms() + ms(self.forwarding().armed_for);
        self.queue(tx, terminal, transaction_id, request, owed, until, until)
            .await
    }

    /// What the acquirer's answer to a pending sale, void or refund leaves owed upstream,
    /// queued in the transaction that books the answer (in place of the job [`Store::arm`]
    /// queued), so the job exists exactly when the answer does. `kept`: no reversal from the
    /// terminal overtook it. An approval the terminal is answered leaves its reversal on
    /// standby (with a data key: an acquirer that reads cards), should the terminal reverse it.
    pub(crate) async fn owed_after(
        &self,
        tx: &mut Tx,
        terminal: TerminalRef<'_>,
        transaction_id: i64,
        request: &Request,
        answer: &Answer,
        kept: bool,
    ) -> ApiResult<()> {
        tx.delete_jobs_of(terminal.merchant_id, transaction_id)
            .await?;
        match Owed::after(request, answer, kept) {
            Some(owed) => {
                self.queue(tx, terminal, transaction_id, request, owed, 0, 0)
                    .await
            }
            None if kept && answer.approved() && self.forwarding().key.is_some() => {
                let standby = Owed::Reversal(ReversalReason::Other);
                self.queue(tx, terminal, transaction_id, request, standby, STANDBY, 0)
                    .await
            }
            None => Ok(()),
        }
    }

    /// The terminal's next transaction, settlement or sign-off is being booked in `tx`: it can
    /// no longer reverse what it was answered before (R8: its reversals go first), so its
    /// standby reversals and their cards are gone (R4). Nothing to do without a data key,
    /// which no standby reversal is kept without.
    pub(crate) async fn end_standby(&self, tx: &mut Tx, terminal_ref: i64) -> ApiResult<()> {
        if self.forwarding().key.is_some() {
            tx.end_standby(terminal_ref).await?;
        }
        Ok(())
    }

    /// Queues a job, due at `next_at` ([`STANDBY`]: never, until woken) and held by this
    /// process until `leased_until` (0: free to send).
    #[allow(clippy::too_many_arguments)]
    async fn queue(
        &self,
        tx: &mut Tx,
        terminal: TerminalRef<'_>,
        transaction_id: i64,
        request: &Request,
        owed: Owed,
        next_at: i64,
        leased_until: i64,
    ) -> ApiResult<()> {
        let (json, card) = stored::keep(request)
            .ok_or_else(|| ApiError::internal("only a sale, void or refund is owed upstream"))?;
        let (kind, reason) = owed.columns();
        let now = now_ms();
        let id = tx
            .insert_job(&NewJob {
                merchant_id: terminal.merchant_id,
                terminal_ref: terminal.id,
                transaction_id,
                kind,
                reason,
                request: &json,
                next_at: next_at.max(now),
                leased_until,
                created_at: now,
            })
            .await?;
        if let (Some(card), Some(key)) = (card, &self.forwarding().key) {
            tx.set_job_card(id, &key.seal(id, card.as_bytes())?).await?;
        }
        if next_at == STANDBY {
            tracing::debug!(job = id, transaction_id, "reversal on standby");
        } else if leased_until == 0 {
            tracing::info!(job = id, kind, reason, transaction_id, "owed upstream");
        }
        Ok(())
    }

    /// Sends the terminal's jobs, oldest first, before its next message goes upstream. One
    /// without an answer stops the rest (and the next message).
    pub(crate) async fn forward_terminal(
        &self,
        terminal_ref: i64,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<Ahead> {
        for _ in 0..BEFORE_NEXT_MAX {
            let jobs = terminal_jobs(self.db().reader(), terminal_ref, now_ms()).await?;
            let Some(job) = jobs.into_iter().next() else {
                return Ok(Ahead::Clear);
            };
            match self.send_job(job, acquirer, false).await? {
                Sent::Answered => {}
                Sent::Unanswered => return Ok(Ahead::Unanswered),
                Sent::Elsewhere => return Ok(Ahead::Elsewhere),
            }
        }
        Ok(Ahead::Unanswered)
    }

    /// One round of the background task: the jobs due, oldest first, until one goes
    /// unanswered (the acquirer is not answering; the rest wait for the next round). How many
    /// were answered.
    pub(crate) async fn forward_due(&self, acquirer: &dyn Acquirer) -> ApiResult<usize> {
        let mut answered = 0;
        for job in due_jobs(self.db().reader(), now_ms(), ROUND).await? {
            match self.send_job(job, acquirer, true).await? {
                Sent::Answered => answered += 1,
                Sent::Unanswered => break,
                Sent::Elsewhere => {}
            }
        }
        Ok(answered)
    }

    /// Sends one job unless another sender holds it (or, `due_only`, it is not due).
    async fn send_job(
        &self,
        job: JobRow,
        acquirer: &dyn Acquirer,
        due_only: bool,
    ) -> ApiResult<Sent> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let leased = tx
            .lease_job(job.id, now, now + ms(self.forwarding().lease), due_only)
            .await?;
        tx.commit().await?;
        if !leased {
            return Ok(Sent::Elsewhere);
        }
        let owed = Owed::of_row(&job)?;
        let original = self.rebuild(&job)?;
        let request = match owed {
            Owed::Reversal(reason) => Request::Reversal(Reversal {
                original: Box::new(original.clone()),
                reason,
            }),
            Owed::Advice => original.clone(),
        };
        let answer = exchange(acquirer, request).await;
        self.record_try(&job, owed, &original, &answer).await?;
        Ok(if answer == Answer::Unknown {
            Sent::Unanswered
        } else {
            Sent::Answered
        })
    }

    /// What the acquirer's answer to a job makes of it: tried again later without one; gone
    /// with one; an approved advice leaves a reversal behind (the terminal was told the refund
    /// was declined).
    async fn record_try(
        &self,
        job: &JobRow,
        owed: Owed,
        original: &Request,
        answer: &Answer,
    ) -> ApiResult<()> {
        let mut tx = self.begin().await?;
        let code = match answer {
            Answer::Unknown => {
                let wait = retry_after(self.forwarding().first_retry, job.tries + 1);
                tx.retry_job_at(job.id, now_ms() + ms(wait)).await?;
                tx.commit().await?;
                tracing::warn!(
                    job = job.id,
                    tries = job.tries + 1,
                    retry_in_ms = ms(wait),
                    "no answer upstream"
                );
                return Ok(());
            }
            Answer::Answered { code, .. } => code,
        };
        tx.delete_job(job.id).await?;
        if owed == Owed::Advice && answer.approved() {
            let terminal = TerminalRef {
                merchant_id: &job.merchant_id,
                id: job.terminal_ref,
            };
            let reversal = Owed::Reversal(ReversalReason::Other);
            self.queue(
                &mut tx,
                terminal,
                job.transaction_id,
                original,
                reversal,
                0,
                0,
            )
            .await?;
        }
        tx.commit().await?;
        tracing::info!(job = job.id, kind = %job.kind, code = %code, "answered upstream");
        Ok(())
    }

    /// The job's message, its card opened when one was kept.
    fn rebuild(&self, job: &JobRow) -> ApiResult<Request> {
        let card = match (&job.card, &self.forwarding().key) {
            (Some(sealed), Some(key)) => {
                let opened = key.open(job.id, sealed);
                if opened.is_none() {
                    tracing::error!(
                        job = job.id,
                        "the card of an upstream job does not open: was the data key changed?"
                    );
                }
                opened.and_then(|b| String::from_utf8(b).ok())
            }
            _ => None,
        };
        stored::rebuild(&job.request, card.as_deref()).map_err(ApiError::internal)
    }
}

#[cfg(test)]
mod tests;
