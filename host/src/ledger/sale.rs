//! R5 sale \[消费\], and the questions every transaction request asks before it is booked.

use super::{auth_code, busy, refused_reversed, replay, rrn_of, Answer, Session};
use crate::authorizer::{response_message, AuthRequest, Authorization, Authorizer};
use crate::db::{BatchRow, Checked, Fresh, NewTransaction, Scope, Tx, TxState};
use crate::error::{ApiError, ApiResult};
use crate::store::{now_ms, Store};
use softpos::protocol::{TransactionRequest, TransactionResponse, TxKind, TxStatus};
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
    let terminal = s.terminal.key();
    let checked = tx
        .open_batch_checked(terminal, &req.request_id, req.trace_no, draw_id)
        .await?;
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

/// A sale being booked: the request, and what the rules made of it.
struct Sale<'a> {
    s: &'a Session,
    req: &'a TransactionRequest,
    amount: Amount,
    /// The request's fingerprint (R9).
    fp: &'a str,
    masked_pan: &'a str,
}

impl<'a> Sale<'a> {
    /// The sale's row as booked before the issuer answers.
    fn row(&self, batch_id: i64) -> NewTransaction<'a> {
        NewTransaction {
            id: None,
            terminal_ref: self.s.terminal.terminal_ref,
            merchant_id: &self.s.terminal.merchant_id,
            batch_id,
            request_id: &self.req.request_id,
            kind: TxKind::Sale,
            trace_no: self.req.trace_no,
            amount: self.amount.get(),
            status: TxState::Pending,
            response_code: None,
            auth_code: None,
            rrn: None,
            masked_pan: Some(self.masked_pan),
            original_id: None,
            operator: &self.s.operator,
            created_at: now_ms(),
        }
    }
}

/// The issuer's decision on a sale: its row's status, code, RRN and authorisation code, and
/// the answer (R9) made of them.
struct Decided {
    status: TxState,
    rrn: String,
    auth_code: Option<String>,
    answer: Answer,
}

impl Decided {
    fn new(
        req: &TransactionRequest,
        decision: &Authorization,
        id: i64,
        batch: &BatchRow,
        masked_pan: &str,
    ) -> ApiResult<Decided> {
        let approved = decision.approved();
        let auth_code = auth_code(approved)?;
        let rrn = rrn_of(id);
        let answer = Answer::ok(&TransactionResponse {
            request_id: req.request_id.clone(),
            status: if approved {
                TxStatus::Approved
            } else {
                TxStatus::Declined
            },
            response_code: decision.response_code.to_owned(),
            message: response_message(decision.response_code).to_owned(),
            rrn: Some(rrn.clone()),
            auth_code: auth_code.clone(),
            batch_no: batch.batch_no,
            trace_no: req.trace_no,
            masked_pan: Some(masked_pan.to_owned()),
            host_time: Timestamp(now_ms()).rfc3339(),
        })?;
        let status = if approved {
            TxState::Approved
        } else {
            TxState::Declined
        };
        Ok(Decided {
            status,
            rrn,
            auth_code,
            answer,
        })
    }

    /// The sale's row with the decision in it.
    fn row<'a>(&'a self, sale: NewTransaction<'a>, code: &'a str) -> NewTransaction<'a> {
        NewTransaction {
            status: self.status,
            response_code: Some(code),
            auth_code: self.auth_code.as_deref(),
            rrn: Some(&self.rrn),
            ..sale
        }
    }
}

impl Store {
    /// R5 sale. When the issuer decides at once ([`Authorizer::decide_now`]) the sale and its
    /// answer are booked in one transaction: one commit, and nothing pending for a reversal to
    /// overtake (the reversal waits on the batch lock and then finds the answered sale).
    /// Otherwise in three steps, so a slow issuer holds no lock: book it `pending`, ask the
    /// issuer, then commit the answer unless a reversal arrived meanwhile (R8).
    pub(super) async fn sale(
        &self,
        s: &Session,
        req: TransactionRequest,
        amount: Amount,
        fp: &str,
        authorizer: &dyn Authorizer,
    ) -> ApiResult<Answer> {
        let Some(card) = &req.card else {
            return Err(ApiError::detail(
                ErrorCode::InvalidCard,
                "a sale needs a card",
            ));
        };
        let pan = Pan::parse(&card.pan)?;
        // The card's month on the merchants' clock, as the terminal checked it.
        let offset = UtcOffset::from_minutes(self.wall_clock().1).unwrap_or(UtcOffset::UTC);
        Expiry::parse(&card.expiry, Timestamp(now_ms()).local(offset))?;
        let masked = pan.masked();
        let request = AuthRequest {
            pan,
            amount,
            currency: req.currency.clone(),
        };
        let sale = Sale {
            s,
            req: &req,
            amount,
            fp,
            masked_pan: &masked,
        };
        match authorizer.decide_now(&request) {
            Some(decision) => self.sale_at_once(&sale, &decision).await,
            None => {
                let id = match self.book_pending(&sale).await? {
                    Ok(id) => id,
                    Err(answer) => return Ok(answer),
                };
                let decision = authorizer.authorize(request).await;
                self.answer_pending(&sale, id, &decision).await
            }
        }
    }

    /// The sale and its answer in one transaction, in as few trips as the database allows
    /// (two on SQLite: one begins it and asks everything, one books and commits).
    async fn sale_at_once(&self, sale: &Sale<'_>, decision: &Authorization) -> ApiResult<Answer> {
        let mut tx = self.db().begin_fused().await?;
        let checked = match open_batch_checked(&mut tx, sale.s, sale.req, sale.fp, true).await {
            Ok((_, Some(answer))) => {
                tx.commit().await?;
                return Ok(answer);
            }
            Ok((checked, None)) => checked,
            Err(e) => {
                tx.rollback().await.ok();
                return Err(e);
            }
        };
        let Some(id) = checked.next_id else {
            tx.rollback().await.ok();
            return Err(ApiError::internal("no transaction id was drawn"));
        };
        let decided = Decided::new(sale.req, decision, id, &checked.batch, sale.masked_pan)?;
        let row = NewTransaction {
            id: Some(id),
            ..sale.row(checked.batch.id)
        };
        let row = decided.row(row, decision.response_code);
        tx.book_and_commit(&row, &decided.answer.stored(sale.fp))
            .await?;
        Ok(decided.answer)
    }

    /// Books the sale `pending` and commits: its row id, or the answer that stands.
    async fn book_pending(&self, sale: &Sale<'_>) -> ApiResult<Result<i64, Answer>> {
        let mut tx = self.begin().await?;
        let (checked, answer) =
            open_batch_checked(&mut tx, sale.s, sale.req, sale.fp, false).await?;
        if let Some(answer) = answer {
            tx.commit().await?;
            return Ok(Err(answer));
        }
        let id = tx.insert_transaction(&sale.row(checked.batch.id)).await?;
        tx.commit().await?;
        Ok(Ok(id))
    }

    /// Commits the issuer's answer to a pending sale, unless a reversal came meanwhile.
    async fn answer_pending(
        &self,
        sale: &Sale<'_>,
        id: i64,
        decision: &Authorization,
    ) -> ApiResult<Answer> {
        let mut tx = self.begin().await?;
        // Lock order everywhere: the terminal's open batch, then other batches, then
        // transaction rows; so a reversal, a settlement or a cut-off waits for us or we for it.
        let terminal = sale.s.terminal.key();
        let open = tx.open_batch(terminal).await?;
        if tx.lock_transaction(terminal.merchant_id, id).await?.status != TxState::Pending {
            // A reversal came while the issuer was deciding: the sale stays reversed.
            tx.commit().await?;
            return Err(refused_reversed());
        }
        let decided = Decided::new(sale.req, decision, id, &open, sale.masked_pan)?;
        // A batch closed (cut-off, settlement) while the issuer was deciding: the answer goes
        // into the batch open now, so it is counted exactly once.
        let row = decided.row(sale.row(open.id), decision.response_code);
        tx.answer_sale(id, &row).await?;
        let stored = decided.answer.stored(sale.fp);
        tx.store_answer(row.terminal(), Scope::Tx, row.request_id, &stored, now_ms())
            .await?;
        tx.commit().await?;
        Ok(decided.answer)
    }
}
