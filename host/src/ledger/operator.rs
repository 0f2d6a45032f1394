//! R16: an operator's password, checked with the lockout.

use super::TerminalAuth;
use crate::db::TerminalRef;
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{now_ms, Store};
use softpos::ErrorCode;

/// R16: password checks of one operator on one terminal before the lock.
pub(super) const LOCK_AFTER_FAILURES: i64 = 3;
/// R16.
pub(super) const LOCK_MS: i64 = 15 * 60 * 1000;
/// An Argon2id hash (default parameters) of a password nobody has, verified for unknown
/// operators so they cost what a known one costs.
pub(super) const UNKNOWN_OPERATOR_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$QuQQpA9cJSDVzyUhkxgAwg$hd4anJ89Ds26jWtX/BtB/fJfHfxExS4GOAm750HalrU";

/// `OPERATOR_LOCKED` with the seconds left, for an operator (R16) or a console user (R22).
pub(super) fn locked(ms_left: i64) -> ApiError {
    let seconds = (ms_left + 999) / 1000;
    ApiError::detail(
        ErrorCode::OperatorLocked,
        format_args!("try again in {seconds} s"),
    )
}

/// The rule of a new password, an operator's (R16) or a console user's (R22): at least 4
/// characters.
pub(super) fn check_new_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < 4 {
        return Err(ApiError::bad_request(
            "a password has at least 4 characters",
        ));
    }
    Ok(())
}

impl Store {
    /// Checks an operator's password on a terminal with the R16 lockout: three wrong ones in
    /// a row lock that operator on that terminal for 15 minutes; a right one clears the count.
    ///
    /// The attempt is counted before the check, in one statement ([`Tx::take_attempt`]), so
    /// however many arrive at once no more than three are ever checked: the third sets the
    /// lock as it is taken, and only a right password among the three lifts it. Unknown
    /// operators are counted and checked (against a hash nobody has) like known ones. A turn
    /// among the bounded password checks comes first, so a burst waits for its turn or is
    /// answered `503 BUSY` before anything is counted.
    ///
    /// [`Tx::take_attempt`]: crate::db::Tx::take_attempt
    pub(super) async fn check_operator(
        &self,
        terminal: &TerminalAuth,
        operator: &str,
        password: &str,
        wrong: ErrorCode,
    ) -> ApiResult<()> {
        let during = if wrong == ErrorCode::SupervisorRequired {
            "void or refund"
        } else {
            "sign-in"
        };
        let turn = self.password_checks().turn().await?;
        let Some(attempt) = self.take_attempt(terminal.key(), operator).await? else {
            let left = self.lock_left(terminal.key(), operator).await?;
            tracing::info!(merchant = %terminal.merchant_id, terminal = %terminal.terminal_id,
                %operator, %during, "refused: operator locked");
            return Err(locked(left));
        };
        let hash = self
            .db()
            .password_hash(&terminal.merchant_id, operator)
            .await?;
        // An unknown operator costs the same Argon2 work as a known one: neither the answer
        // nor its timing tells which operators exist.
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| UNKNOWN_OPERATOR_HASH.to_owned());
        let right = secrets::verify_password(turn, password.to_owned(), hash).await? && known;
        if right {
            let mut tx = self.begin().await?;
            tx.clear_attempts(terminal.key(), operator).await?;
            tx.commit().await?;
            return Ok(());
        }
        tracing::warn!(merchant = %terminal.merchant_id, terminal = %terminal.terminal_id,
            %operator, %during, attempt, "password check failed");
        if attempt >= LOCK_AFTER_FAILURES {
            tracing::warn!(merchant = %terminal.merchant_id, terminal = %terminal.terminal_id,
                %operator, minutes = LOCK_MS / 60_000, "operator locked after 3 wrong passwords");
            return Err(locked(LOCK_MS));
        }
        Err(ApiError::new(wrong))
    }

    /// Counts a password attempt before it is checked: its number (1..=3) since the last right
    /// password, or `None` while the operator is locked on the terminal.
    async fn take_attempt(
        &self,
        terminal: TerminalRef<'_>,
        operator: &str,
    ) -> ApiResult<Option<i64>> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let attempt = tx
            .take_attempt(terminal, operator, now, LOCK_AFTER_FAILURES, now + LOCK_MS)
            .await?;
        tx.commit().await?;
        Ok(attempt)
    }

    /// Milliseconds left of an operator's lock on a terminal (at least one second: a lock that
    /// ran out since [`Store::take_attempt`] refused still answers as locked).
    async fn lock_left(&self, terminal: TerminalRef<'_>, operator: &str) -> ApiResult<i64> {
        let until = self.db().locked_until(terminal, operator).await?;
        Ok(until.map_or(LOCK_MS, |u| u - now_ms()).max(1000))
    }
}
