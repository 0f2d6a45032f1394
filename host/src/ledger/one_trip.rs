//! A sale in one round trip on PostgreSQL (docs/architecture.md, "A sale's trips to the
//! database"): when a token's last sale showed its session and its terminal's open batch, the
//! next sale is decided on them and booked by one statement that checks they still hold. When
//! they do not, or anything about the sale is not plain, it goes the long way, which decides
//! every refusal as before; a sale only ever saves trips here, never changes an answer.

use super::sale::Sale;
use super::upstream::Route;
use super::{check_transaction, tx_fingerprint, Answer, Session};
use crate::acquirer::Acquirer;
use crate::db::{BatchRow, Dialect, NewTransaction, OneTrip, SessionRow};
use crate::error::{ApiError, ApiResult};
use crate::forward::Ahead;
use crate::store::{now_ms, Store};
use softpos::protocol::{TransactionRequest, TxKind};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Tokens kept at most; past it the map starts again (each token costs one long sale to
/// learn again).
const KNOWN_TOKENS: usize = 10_000;

/// What the sales of this process learned for the next ones.
#[derive(Debug, Default)]
pub struct Known {
    /// By session token hash: the session and its terminal's open batch, as its last sale
    /// found them.
    sessions: Mutex<HashMap<String, (SessionRow, BatchRow)>>,
    /// Ids for new rows drawn ahead, the next one last.
    ids: Mutex<Vec<i64>>,
}

impl Known {
    /// Keeps what the long way found for the token's next sale.
    pub(super) fn learn(&self, token_hash: &str, session: &SessionRow, batch: &BatchRow) {
        let mut sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        if sessions.len() >= KNOWN_TOKENS && !sessions.contains_key(token_hash) {
            sessions.clear();
        }
        sessions.insert(token_hash.to_owned(), (session.clone(), batch.clone()));
    }

    fn recall(&self, token_hash: &str) -> Option<(SessionRow, BatchRow)> {
        let sessions = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        sessions.get(token_hash).cloned()
    }

    fn take_id(&self) -> Option<i64> {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn keep_ids(&self, drawn: Vec<i64>) {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        ids.extend(drawn);
        // Smallest last, so ids are handed out in the order they were drawn.
        ids.sort_unstable_by(|a, b| b.cmp(a));
    }
}

impl Store {
    /// Whether a sale may try the one trip at all: PostgreSQL, a sale (not a hold or a
    /// completion), and no forwarding of messages owed upstream (that path ends standby
    /// reversals in the sale's transaction).
    pub(super) fn one_trip_applies(&self, req: &TransactionRequest) -> bool {
        self.db().dialect() == Dialect::Postgres
            && req.kind == TxKind::Sale
            && self.forwarding().key.is_none()
    }

    /// The sale booked in one trip, or `None` to go the long way: the token's last sale left
    /// nothing to go on, the session or the request is refused (the long way says why), the
    /// acquirer does not decide at once, or the store found things changed.
    pub(super) async fn sale_in_one_trip(
        &self,
        token_hash: &str,
        req: &TransactionRequest,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<Option<Answer>> {
        let Some((session, batch)) = self.known().recall(token_hash) else {
            return Ok(None);
        };
        let Ok(s) = Session::judge(Some(session), token_hash.to_owned(), false) else {
            return Ok(None);
        };
        let asked = tx_fingerprint(self.fingerprint_key(), req).and_then(|fp| {
            let amount = check_transaction(&s, req)?;
            Ok((fp, amount, self.card(req)?))
        });
        let Ok((fp, amount, (pan, expiry))) = asked else {
            return Ok(None);
        };
        let id = self.next_id().await?;
        let masked = pan.masked();
        let sale = Sale {
            s: &s,
            req,
            amount,
            fp: &fp,
            masked_pan: &masked,
            hold: None,
        };
        let request = sale.request(&batch, id, pan, expiry);
        let Route::Decided(verdict) = Route::of(Ahead::Clear, acquirer, &request) else {
            return Ok(None);
        };
        let answer = verdict.answer(req, &batch, Some(&masked))?;
        let row = verdict.row(NewTransaction {
            id: Some(id),
            ..sale.row(batch.id)
        });
        let event = sale.event(&row, id, batch.batch_no)?;
        let stored = answer.stored(&fp);
        let booking = (&row, &stored, event.as_ref());
        match self
            .db()
            .book_decided(token_hash, now_ms(), &batch, booking)
            .await?
        {
            OneTrip::Booked => Ok(Some(answer)),
            // What the token's last sale found is not dropped: the long way that follows
            // learns what holds now, and a retry's stale answer leaves it true.
            OneTrip::Stale => Ok(None),
        }
    }

    /// The id of a new row, from those drawn ahead; a block more in one trip when none
    /// is left.
    async fn next_id(&self) -> ApiResult<i64> {
        if let Some(id) = self.known().take_id() {
            return Ok(id);
        }
        self.known().keep_ids(self.db().draw_ids().await?);
        self.known()
            .take_id()
            .ok_or_else(|| ApiError::internal("no transaction id was drawn"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{BatchState, TerminalRow};
    use softpos::ids::BatchNo;

    fn session() -> (SessionRow, BatchRow) {
        let terminal = TerminalRow {
            terminal_ref: 1,
            merchant_id: "898310048160001".into(),
            terminal_id: "10000001".into(),
            currency: "CNY".into(),
            lane: false,
        };
        let session = SessionRow {
            terminal,
            operator: "01".into(),
            expires_at: i64::MAX,
            ended_by: None,
            ended: false,
        };
        let batch = BatchRow {
            id: 1,
            batch_no: BatchNo::FIRST,
            business_date: "2026-12-05".into(),
            status: BatchState::Open,
            upstream_batch_no: None,
        };
        (session, batch)
    }

    #[test]
    fn r1_what_sales_learn_is_bounded_and_a_known_token_is_kept_when_full() {
        let known = Known::default();
        let (s, b) = session();
        for i in 0..KNOWN_TOKENS {
            known.learn(&format!("token {i}"), &s, &b);
        }
        assert!(known.recall("token 0").is_some(), "full, not yet cleared");
        // Learning again a token it holds keeps the others.
        known.learn("token 1", &s, &b);
        assert!(known.recall("token 0").is_some());
        // One more token: the map starts again with it alone.
        known.learn("token new", &s, &b);
        assert!(known.recall("token 0").is_none());
        assert!(known.recall("token new").is_some());
    }
}
