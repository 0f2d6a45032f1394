//! R20 pre-authorisation \[预授权\]: which hold a completion or a pre-auth void names, and what
//! each may do with it. A hold and a completion are booked the way a sale is (`sale`), a
//! pre-auth void and a completion void the way a void is (`void_refund`); here are only the
//! hold's own rules. The hold is its `preauth` row (migration 0017).

use super::Session;
use crate::db::{BatchRow, TerminalRef, Tx, TxRow, TxState};
use crate::error::{ApiError, ApiResult};
use crate::store::now_ms;
use softpos::terminal::money::Amount;
use softpos::terminal::preauth::completion_limit;
use softpos::ErrorCode;

/// A hold lapses 30 days after it was booked.
pub(super) const HOLD_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The merchant's hold with this RRN and auth code, as it stands: approved and not released
/// (else `PREAUTH_NOT_FOUND`), not completed (`PREAUTH_COMPLETED`), at most 30 days old
/// (`PREAUTH_EXPIRED`). Row-locked on PostgreSQL.
async fn live_hold(tx: &mut Tx, merchant_id: &str, rrn: &str, auth_code: &str) -> ApiResult<TxRow> {
    let hold = tx
        .hold(merchant_id, rrn, auth_code)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::PreauthNotFound))?;
    standing(&hold)?;
    if hold.created_at < now_ms() - HOLD_WINDOW_MS {
        return Err(ApiError::new(ErrorCode::PreauthExpired));
    }
    Ok(hold)
}

/// Why a hold can no longer be released or completed, if it cannot.
fn standing(hold: &TxRow) -> ApiResult<()> {
    if hold.status != TxState::Approved || hold.voided {
        return Err(ApiError::new(ErrorCode::PreauthNotFound));
    }
    if hold.completed_by.is_some() {
        return Err(ApiError::new(ErrorCode::PreauthCompleted));
    }
    Ok(())
}

/// The refusal when the conditional UPDATE found the hold changed since it was read (another
/// terminal completed or released it meanwhile).
async fn changed_meanwhile(tx: &mut Tx, merchant_id: &str, hold: i64) -> ApiError {
    match tx.transaction(merchant_id, hold).await {
        Ok(now) => standing(&now)
            .err()
            .unwrap_or_else(|| ApiError::new(ErrorCode::PreauthNotFound)),
        Err(e) => e,
    }
}

/// R20 completion: the hold, marked completed by `completion` (the completion's row id). Any
/// terminal of the hold's merchant may complete it (a hotel completes at another counter), in
/// the hold's currency, for at most 115 % of the hold, once.
pub(super) async fn completion_target(
    tx: &mut Tx,
    s: &Session,
    rrn: &str,
    auth_code: &str,
    amount: Amount,
    completion: i64,
) -> ApiResult<TxRow> {
    let merchant_id = &s.terminal.merchant_id;
    let hold = live_hold(tx, merchant_id, rrn, auth_code).await?;
    // The terminal's own limit (115 %, rounded down), so both sides refuse the same amounts.
    let limit = completion_limit(hold.amount);
    if amount.get() > limit {
        return Err(ApiError::detail(
            ErrorCode::InvalidAmount,
            format_args!("a completion is for at most {limit} minor units (115 % of the hold)"),
        ));
    }
    if hold.terminal_ref != s.terminal.terminal_ref
        && tx
            .terminal_currency(TerminalRef {
                merchant_id,
                id: hold.terminal_ref,
            })
            .await?
            != s.terminal.currency
    {
        return Err(ApiError::bad_request("the hold was in another currency"));
    }
    if !tx.complete_hold(merchant_id, hold.id, completion).await? {
        return Err(changed_meanwhile(tx, merchant_id, hold.id).await);
    }
    Ok(hold)
}

/// R20 pre-auth void: the hold, released. Only a hold of this terminal's open batch, for its
/// full amount, as a void of a sale; an older hold cannot be voided
/// (`VOID_NOT_ALLOWED_SETTLED`): it is completed, or lapses after 30 days.
pub(super) async fn release_target(
    tx: &mut Tx,
    s: &Session,
    batch: &BatchRow,
    rrn: &str,
    auth_code: &str,
    amount: Amount,
) -> ApiResult<TxRow> {
    let merchant_id = &s.terminal.merchant_id;
    let hold = live_hold(tx, merchant_id, rrn, auth_code).await?;
    if hold.batch_id != batch.id {
        return Err(ApiError::detail(
            ErrorCode::VoidNotAllowedSettled,
            "the pre-authorisation is not in this terminal's open batch and cannot be voided; \
             complete it, or it lapses 30 days after it was made",
        ));
    }
    if hold.amount != amount.get() {
        return Err(ApiError::detail(
            ErrorCode::InvalidAmount,
            "a pre-auth void is for the hold's full amount",
        ));
    }
    if !tx.release_hold(merchant_id, hold.id).await? {
        return Err(changed_meanwhile(tx, merchant_id, hold.id).await);
    }
    Ok(hold)
}
