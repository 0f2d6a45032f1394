//! The operator's commands: `terminal add`, `operator add`, `operator unlock`.

use crate::db::{TerminalRef, Tx};
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{now_ms, Store};
use softpos::ids::{BatchNo, MerchantId, OperatorId};
use softpos::terminal::money::{ConfirmAbove, Currency};

/// How long an activation code stays valid.
pub const ACTIVATION_VALID_MS: i64 = 24 * 3600 * 1000;

/// The ids an operator types, checked as the wire checks them; the refusal names the kind
/// of id, never the value.
fn check_operator_id(operator: &str) -> ApiResult<()> {
    OperatorId::parse(operator)
        .map(|_| ())
        .map_err(ApiError::bad_request)
}

pub(super) fn check_merchant_id(merchant_id: &str) -> ApiResult<()> {
    MerchantId::parse(merchant_id)
        .map(|_| ())
        .map_err(ApiError::bad_request)
}

pub(super) fn check_terminal_id(terminal_id: &str) -> ApiResult<()> {
    if terminal_id.len() != 8 || !terminal_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::bad_request(
            "a terminal id is 8 letters or digits",
        ));
    }
    Ok(())
}

/// The merchant's terminal: its row id and currency, made with batch 1 open (and the
/// merchant with it) when absent. An existing terminal keeps its currency.
pub(super) async fn found_or_made(
    tx: &mut Tx,
    merchant_id: &str,
    terminal_id: &str,
    currency: Currency,
) -> ApiResult<(i64, String)> {
    tx.ensure_merchant(merchant_id).await?;
    if let Some(found) = tx.find_terminal(merchant_id, terminal_id).await? {
        return Ok(found);
    }
    let code = currency.code();
    let id = tx
        .insert_terminal(merchant_id, terminal_id, code, now_ms())
        .await?;
    let date = tx.business_date().await?;
    let terminal = TerminalRef { merchant_id, id };
    tx.insert_open_batch(terminal, BatchNo::FIRST, &date)
        .await?;
    Ok((id, code.to_owned()))
}

/// What `terminal add` made or found.
#[derive(Debug, Clone)]
pub struct AddedTerminal {
    /// The fresh activation code.
    pub code: String,
    /// The terminal's currency (an existing terminal keeps its own).
    pub currency: String,
    /// The terminal's confirmation threshold now.
    pub confirm_above: ConfirmAbove,
}

impl Store {
    /// `terminal add`: creates the merchant and terminal if absent (with batch 1 open) and
    /// issues a fresh activation code; older unused codes of the terminal stop working. A
    /// `confirm_above` given is the terminal's threshold from now on (told at its next
    /// sign-in); without it a new terminal gets the default and an existing one keeps its own.
    pub async fn add_terminal(
        &self,
        merchant_id: &str,
        terminal_id: &str,
        currency: Currency,
        confirm_above: Option<ConfirmAbove>,
    ) -> ApiResult<AddedTerminal> {
        check_merchant_id(merchant_id)?;
        check_terminal_id(terminal_id)?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let (terminal_ref, currency) =
            found_or_made(&mut tx, merchant_id, terminal_id, currency).await?;
        let terminal = TerminalRef {
            merchant_id,
            id: terminal_ref,
        };
        if let Some(threshold) = confirm_above {
            tx.set_confirm_above(terminal, threshold).await?;
        }
        let confirm_above = tx.confirm_above(terminal).await?;
        let code = secrets::activation_code()?;
        let code_hash = secrets::sha256_hex(secrets::normalise_code(&code));
        tx.replace_code(terminal, &code_hash, now, now + ACTIVATION_VALID_MS)
            .await?;
        tx.commit().await?;
        Ok(AddedTerminal {
            code,
            currency,
            confirm_above,
        })
    }

    /// `terminal add --merchant-name`: the merchant's name as its slips print it (R21), 1 to
    /// 40 characters without control characters; the merchant is made if it is new.
    pub async fn set_merchant_name(&self, merchant_id: &str, name: &str) -> ApiResult<()> {
        check_merchant_id(merchant_id)?;
        let name = name.trim();
        if !(1..=40).contains(&name.chars().count()) || name.chars().any(char::is_control) {
            return Err(ApiError::bad_request(
                "a merchant name is 1 to 40 characters, without control characters",
            ));
        }
        let mut tx = self.begin().await?;
        tx.ensure_merchant(merchant_id).await?;
        tx.set_merchant_name(merchant_id, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `operator add`: creates or replaces an operator's password (and lifts its lockouts on
    /// every terminal).
    pub async fn add_operator(
        &self,
        merchant_id: &str,
        operator: &str,
        password: String,
    ) -> ApiResult<()> {
        check_merchant_id(merchant_id)?;
        check_operator_id(operator)?;
        super::operator::check_new_password(&password)?;
        let hash = secrets::hash_password(password).await?;
        let mut tx = self.begin().await?;
        tx.ensure_merchant(merchant_id).await?;
        tx.upsert_operator(merchant_id, operator, &hash).await?;
        tx.delete_locks(merchant_id, operator, None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `operator unlock`: lifts an operator's R16 lockout on one terminal of the merchant, or
    /// on all of them; returns how many locks (or counts of wrong passwords) it cleared.
    pub async fn unlock_operator(
        &self,
        merchant_id: &str,
        operator: &str,
        terminal_id: Option<&str>,
    ) -> ApiResult<u64> {
        check_merchant_id(merchant_id)?;
        check_operator_id(operator)?;
        let mut tx = self.begin().await?;
        if let Some(terminal_id) = terminal_id {
            if tx.find_terminal(merchant_id, terminal_id).await?.is_none() {
                return Err(ApiError::bad_request(format_args!(
                    "merchant {merchant_id} has no terminal {terminal_id}"
                )));
            }
        }
        let cleared = tx.delete_locks(merchant_id, operator, terminal_id).await?;
        tx.commit().await?;
        Ok(cleared)
    }
}
