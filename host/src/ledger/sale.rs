//! R5 sale \[消费\], and the questions every transaction request asks before it is booked; R20's
//! pre-authorisation \[预授权\] and completion \[预授权完成\] are booked the same way (a card, no
//! supervisor), a completion with its hold marked completed.

use super::preauth::completion_target;
use super::upstream::{awaited, next_operation, terminal_of, Route, Verdict};
use super::{busy, refused_reversed, replay, Answer, Session};
use crate::acquirer::{self, Acquirer, Request};
use crate::db::{BatchRow, Checked, Fresh, NewEvent, NewTransaction, Scope, Tx, TxState};
use crate::error::{ApiError, ApiResult};
use crate::forward::Ahead;
use crate::merchant::{self, EventType};
use crate::store::{now_ms, Store};
use softpos::ids::BatchNo;
use softpos::protocol::{OriginalRef, TransactionRequest, TxKind};
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::money::Amount;
use softpos::terminal::time::{Timestamp, UtcOffset};
use softpos::ErrorCode;

/// The terminal's open batch, locked, and the verdict on the request (R8, R9): refused when
/// its id was reversed or is in flight or its trace number is used in the batch; the stored
/// answer when a twin of it finished while we waited for the batch lock; else `None`, to book.
pub(super) async fn open_batch_checked(
    tx: &mut Tx,
    s: &Session,
    req: &TransactionRequest,
    fp: &str,
    draw_id: bool,
) -> ApiResult<(Checked, Option<Answer>)> {
    let checked = tx
        .open_batch_checked(s.terminal.key(), &req.request_id, req.trace_no, draw_id)
        .await?;
    judged(tx, s, req, fp, checked).await
}

/// [`open_batch_checked`]'s verdict on what the store found.
async fn judged(
    tx: &mut Tx,
    s: &Session,
    req: &TransactionRequest,
    fp: &str,
    checked: Checked,
) -> ApiResult<(Checked, Option<Answer>)> {
    let terminal = s.terminal.key();
    let answer = match checked.fresh {
        Fresh::Reversed => return Err(refused_reversed()),
        Fresh::Pending => return Err(busy()),
        Fresh::Booked => {
            // Booked and answered in one transaction: no answer means it was reversed since.
            let stored = tx
                .stored_answer(terminal, Scope::Tx, &req.request_id)
                .await?
                .ok_or_else(refused_reversed)?;
            Some(replay(stored, fp)?)
        }
        Fresh::TraceUsed => {
            return Err(ApiError::bad_request(format_args!(
                "trace number {} is already used in batch {}",
                req.trace_no,
                checked.batch.batch_no.get()
            )))
        }
        Fresh::New => None,
    };
    Ok((checked, answer))
}

/// A sale's first trip, made before its session was known (`Store::sale_by_token`): its
/// transaction, begun, and what the store found of the request on the open batch.
pub(super) type FirstTrip = Option<(Tx, Checked)>;

/// Rolls back a first trip that will not be used.
pub(super) async fn drop_first(first: FirstTrip) {
    if let Some((tx, _)) = first {
        tx.rollback().await.ok();
    }
}

/// A sale being booked: the request, and what the rules made of it.
pub(super) struct Sale<'a> {
    pub(super) s: &'a Session,
    pub(super) req: &'a TransactionRequest,
    pub(super) amount: Amount,
    /// The request's fingerprint (R9).
    pub(super) fp: &'a str,
    pub(super) masked_pan: &'a str,
    /// R20: a completion's hold (its row id) as the acquirer knows it.
    pub(super) hold: Option<(i64, acquirer::Original)>,
}

impl<'a> Sale<'a> {
    /// What the acquirer is asked: a sale, a hold or a completion.
    pub(super) fn request(&self, batch: &BatchRow, id: i64, pan: Pan, expiry: Expiry) -> Request {
        let sale = acquirer::Sale {
            terminal: terminal_of(self.s),
            trace: self.req.trace_no,
            batch: batch.upstream_no(),
            amount: self.amount,
            currency: self.req.currency.clone(),
            pan,
            expiry,
            reference: id,
        };
        match (self.req.kind, &self.hold) {
            (TxKind::Preauth, _) => Request::Preauth(sale),
            (TxKind::Completion, Some((_, hold))) => Request::Completion(acquirer::Completion {
                sale,
                hold: hold.clone(),
            }),
            _ => Request::Sale(sale),
        }
    }

    /// A completion not approved gives its hold back (R20).
    async fn release(&self, tx: &mut Tx, id: i64) -> ApiResult<()> {
        if let Some((hold, _)) = &self.hold {
            tx.reopen_hold(&self.s.terminal.merchant_id, *hold, id)
                .await?;
        }
        Ok(())
    }

    /// The merchant's `payment.approved` event when `row` (row id `id`, in batch `batch_no`)
    /// is approved, booked with it (R23).
    pub(super) fn event(
        &self,
        row: &NewTransaction<'_>,
        id: i64,
        batch_no: BatchNo,
    ) -> ApiResult<Option<NewEvent>> {
        merchant::approved_sale_event(row, id, &self.s.terminal, batch_no)
    }

    /// The sale's row as booked before the acquirer answers.
    pub(super) fn row(&self, batch_id: i64) -> NewTransaction<'a> {
        NewTransaction {
            id: None,
            terminal_ref: self.s.terminal.terminal_ref,
            merchant_id: &self.s.terminal.merchant_id,
            batch_id,
            request_id: &self.req.request_id,
            kind: self.req.kind,
            trace_no: self.req.trace_no,
            amount: self.amount.get(),
            status: TxState::Pending,
            response_code: None,
            auth_code: None,
            settlement_date: None,
            rrn: None,
            masked_pan: Some(self.masked_pan),
            original_id: self.hold.as_ref().map(|(hold, _)| *hold),
            operator: &self.s.operator,
            created_at: now_ms(),
            reference: self.req.reference.as_deref(),
        }
    }
}

impl Store {
    /// R5 sale, asked of the acquirer. Checked and booked in one transaction: when the
    /// acquirer decides at once ([`Acquirer::decide_now`]) the sale and its answer go in
    /// together (one commit, nothing pending for a reversal to overtake: the reversal waits on
    /// the batch lock and then finds the answered sale). Otherwise the sale goes in `pending`,
    /// the acquirer is asked outside any transaction and the answer is committed after, unless
    /// a reversal arrived meanwhile (R8), so a slow acquirer holds no lock.
    pub(super) async fn sale(
        &self,
        s: &Session,
        req: TransactionRequest,
        (amount, pan, expiry): (Amount, Pan, Expiry),
        fp: &str,
        acquirer: &dyn Acquirer,
        first: FirstTrip,
    ) -> ApiResult<Answer> {
        let masked = pan.masked();
        let mut sale = Sale {
            s,
            req: &req,
            amount,
            fp,
            masked_pan: &masked,
            hold: None,
        };
        let (mut tx, batch, id, ahead) = match self.begin_sale(s, &req, fp, acquirer, first).await?
        {
            Ok(begun) => begun,
            Err(answer) => return Ok(answer),
        };
        let ahead = match self
            .ahead_and_hold(&mut tx, &mut sale, ahead, &batch, id)
            .await
        {
            Ok(ahead) => ahead,
            Err(e) => {
                tx.rollback().await.ok();
                return Err(e);
            }
        };
        let request = sale.request(&batch, id, pan, expiry);
        let row = NewTransaction {
            id: Some(id),
            ..sale.row(batch.id)
        };
        let known = match Route::of(ahead, acquirer, &request) {
            Route::Decided(verdict) => {
                if !verdict.approved() {
                    sale.release(&mut tx, id).await?;
                }
                let answer = verdict.answer(&req, &batch, Some(&masked))?;
                let row = verdict.row(row);
                let event = sale.event(&row, id, batch.batch_no)?;
                tx.book_and_commit(&row, &answer.stored(fp), event.as_ref())
                    .await?;
                return Ok(answer);
            }
            Route::Pending(known) => known,
        };
        let mut booked = tx.insert_transaction(&row).await.map(|_| ());
        if booked.is_ok() {
            booked = self.arm(&mut tx, s.terminal.key(), id, &request).await;
        }
        if let Err(e) = booked {
            tx.rollback().await.ok();
            return Err(e);
        }
        tx.commit().await?;
        let answer = awaited(known, acquirer, &request).await;
        self.answer_pending(&sale, id, answer, &request).await
    }

    /// The request's card (R4): a sale, a hold and a completion take one.
    pub(super) fn card(&self, req: &TransactionRequest) -> ApiResult<(Pan, Expiry)> {
        let Some(card) = &req.card else {
            return Err(ApiError::detail(
                ErrorCode::InvalidCard,
                "a sale needs a card",
            ));
        };
        let pan = Pan::parse(&card.pan)?;
        // The card's month on the merchants' clock, as the terminal checked it.
        let offset = UtcOffset::from_minutes(self.wall_clock().1).unwrap_or(UtcOffset::UTC);
        let expiry = Expiry::parse(&card.expiry, Timestamp(now_ms()).local(offset))?;
        Ok((pan, expiry))
    }

    /// [`next_operation`], and R20: the hold a completion (row id `id`) completes, marked
    /// completed, with what its message names of it.
    async fn ahead_and_hold(
        &self,
        tx: &mut Tx,
        sale: &mut Sale<'_>,
        ahead: Ahead,
        batch: &BatchRow,
        id: i64,
    ) -> ApiResult<Ahead> {
        let s = sale.s;
        let ahead = next_operation(self, tx, s, ahead).await?;
        // Only a completion names a hold; a sale or a hold ignores any original it carries.
        if let (TxKind::Completion, Some(OriginalRef::Hold { rrn, auth_code })) =
            (sale.req.kind, &sale.req.original)
        {
            let hold = completion_target(tx, s, rrn, auth_code, sale.amount, id).await?;
            let original = self
                .original(tx, &s.terminal.merchant_id, batch, &hold)
                .await?;
            sale.hold = Some((hold.id, original));
        }
        Ok(ahead)
    }

    /// The sale's transaction, begun, with the terminal's open batch checked (R8, R9), the
    /// sale's id drawn and what the terminal owed upstream sent first (R8 upstream); or the
    /// answer that stands for the request. In as few trips as the database allows (on SQLite
    /// the first one begins it and asks everything, whether anything is owed included); the
    /// `first` trip may have been made already, with the session's check.
    async fn begin_sale(
        &self,
        s: &Session,
        req: &TransactionRequest,
        fp: &str,
        acquirer: &dyn Acquirer,
        mut first: FirstTrip,
    ) -> ApiResult<Result<(Tx, BatchRow, i64, Ahead), Answer>> {
        let mut ahead = None;
        loop {
            let (tx, judged) = match first.take() {
                Some((mut tx, checked)) => {
                    let judged = judged(&mut tx, s, req, fp, checked).await;
                    (tx, judged)
                }
                None => {
                    let mut tx = self.db().begin_fused().await?;
                    let judged = open_batch_checked(&mut tx, s, req, fp, true).await;
                    (tx, judged)
                }
            };
            let checked = match judged {
                Ok((_, Some(answer))) => {
                    tx.commit().await?;
                    return Ok(Err(answer));
                }
                Ok((checked, None)) => checked,
                Err(e) => {
                    tx.rollback().await.ok();
                    return Err(e);
                }
            };
            if checked.jobs && ahead.is_none() {
                // R8 upstream: what the terminal still owes the acquirer goes first, outside
                // any transaction (the acquirer may be slow); then the checks again.
                tx.rollback().await.ok();
                ahead = Some(
                    self.forward_terminal(s.terminal.terminal_ref, acquirer)
                        .await?,
                );
                continue;
            }
            let Some(id) = checked.next_id else {
                tx.rollback().await.ok();
                return Err(ApiError::internal("no transaction id was drawn"));
            };
            return Ok(Ok((tx, checked.batch, id, ahead.unwrap_or(Ahead::Clear))));
        }
    }

    /// Commits the acquirer's answer to a pending sale, unless a reversal came meanwhile; with
    /// what it leaves owed upstream (R8 upstream): a reversal when the outcome is unknown, or
    /// when the acquirer approved a sale the terminal reversed meanwhile.
    async fn answer_pending(
        &self,
        sale: &Sale<'_>,
        id: i64,
        answer: acquirer::Answer,
        request: &Request,
    ) -> ApiResult<Answer> {
        let mut tx = self.begin().await?;
        // Lock order everywhere: the terminal's open batch, then other batches, then
        // transaction rows; so a reversal, a settlement or a cut-off waits for us or we for it.
        let terminal = sale.s.terminal.key();
        let open = tx.open_batch(terminal).await?;
        let kept = tx.lock_transaction(terminal.merchant_id, id).await?.status == TxState::Pending;
        self.owed_after(&mut tx, terminal, id, request, &answer, kept)
            .await?;
        if !kept {
            // A reversal came while the acquirer was deciding: the sale stays reversed.
            tx.commit().await?;
            return Err(refused_reversed());
        }
        let verdict = Verdict::of(answer);
        if !verdict.approved() {
            sale.release(&mut tx, id).await?;
        }
        let answer = verdict.answer(sale.req, &open, Some(sale.masked_pan))?;
        // A batch closed (cut-off, settlement) while the acquirer was deciding: the answer
        // goes into the batch open now, so it is counted exactly once.
        let row = verdict.row(sale.row(open.id));
        tx.answer_sale(id, &row).await?;
        let stored = answer.stored(sale.fp);
        tx.store_answer(row.terminal(), Scope::Tx, row.request_id, &stored, now_ms())
            .await?;
        if verdict.approved() && sale.req.kind == TxKind::Sale {
            // Read back: the row keeps the time it was booked at, before the acquirer answered.
            merchant::record_event(&mut tx, EventType::Approved, terminal.merchant_id, id, id)
                .await?;
        }
        tx.commit().await?;
        Ok(answer)
    }
}
