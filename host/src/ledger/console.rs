//! R22 the merchant's console: merchant users and their sign-in (with R16's lockout), what
//! the console shows of each terminal and the risks it flags, the forced sign-off, and the
//! settlement history. Every read is of the console session's own merchant.

use super::host_totals;
use super::operator::{
    check_new_password, locked, LOCK_AFTER_FAILURES, LOCK_MS, UNKNOWN_OPERATOR_HASH,
};
use super::session::SESSION_MS;
use crate::console::{
    ConsoleCutoff, ConsoleSettlement, ConsoleSettlements, ConsoleSignInRequest,
    ConsoleSignInResponse, ConsoleSignOffResponse, ConsoleTerminal, ConsoleTerminals, Flag,
    LastSettlement, OpenBatch, SettlementsQuery, TerminalState, TOKEN_PREFIX,
};
use crate::db::{
    settled_status, ConsoleTerminalRow, NewestSession, SessionEnd, SettledBatchRow, TerminalRef,
};
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{now_ms, Store};
use jiff::civil::Date;
use softpos::ids::{MerchantId, TerminalId};
use softpos::protocol::{AcquirerVerdict, BatchTotals, Discrepancy, Outcome};
use softpos::terminal::time::Timestamp;
use softpos::ErrorCode;
use std::str::FromStr;

/// How long a console session lives: short, as the console can end any terminal's session.
const CONSOLE_SESSION_MS: i64 = 30 * 60 * 1000;
/// The longest history one request reads.
pub(super) const MAX_HISTORY_DAYS: i64 = 366;

/// A live console session: a merchant user signed in.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The merchant; every console read is of its rows only.
    pub merchant_id: String,
    /// The merchant user.
    pub user: String,
}

/// A merchant user's name: 1 to 32 letters, digits, `.`, `_` or `-`.
fn check_user_name(user: &str) -> ApiResult<()> {
    let ok = (1..=32).contains(&user.len())
        && user
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "a user name is 1 to 32 letters, digits, '.', '_' or '-'",
        ))
    }
}

/// A terminal id as `terminal add` takes it: 8 letters or digits.
fn is_terminal_id(terminal_id: &str) -> bool {
    TerminalId::parse(terminal_id).is_ok()
}

fn rfc3339(ms: i64) -> String {
    Timestamp(ms).rfc3339()
}

impl Store {
    /// `admin add`: creates a merchant user or sets its password (and lifts its lock). The
    /// password rules are the operators' (at least 4 characters, Argon2id).
    pub async fn add_merchant_user(
        &self,
        merchant_id: &str,
        user: &str,
        password: String,
    ) -> ApiResult<()> {
        MerchantId::parse(merchant_id).map_err(ApiError::bad_request)?;
        check_user_name(user)?;
        check_new_password(&password)?;
        let hash = secrets::hash_password(password).await?;
        let mut tx = self.begin().await?;
        tx.ensure_merchant(merchant_id).await?;
        tx.upsert_merchant_user(merchant_id, user, &hash, now_ms())
            .await?;
        tx.delete_console_lock(merchant_id, user).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /v1/console/sign-in`: R16's lockout for the merchant user (three wrong passwords
    /// lock it for 15 minutes, counted before the check; unknown users cost and count the
    /// same), then a console token of 30 minutes.
    pub async fn console_sign_in(
        &self,
        req: &ConsoleSignInRequest,
    ) -> ApiResult<ConsoleSignInResponse> {
        MerchantId::parse(&req.merchant_id).map_err(ApiError::bad_request)?;
        check_user_name(&req.user)?;
        let (merchant, user) = (req.merchant_id.as_str(), req.user.as_str());
        let turn = self.password_checks().turn().await?;
        let now = now_ms();
        let mut tx = self.begin().await?;
        let attempt = tx
            .take_console_attempt(merchant, user, now, LOCK_AFTER_FAILURES, now + LOCK_MS)
            .await?;
        tx.commit().await?;
        let Some(attempt) = attempt else {
            let until = self.db().console_locked_until(merchant, user).await?;
            tracing::info!(%merchant, %user, "console sign-in refused: user locked");
            return Err(locked(until.map_or(LOCK_MS, |u| u - now_ms()).max(1000)));
        };
        let hash = self.db().merchant_user_hash(merchant, user).await?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| UNKNOWN_OPERATOR_HASH.to_owned());
        let right =
            secrets::verify_password(turn, req.password.expose().to_owned(), hash).await? && known;
        if !right {
            tracing::warn!(%merchant, %user, attempt, "console password check failed");
            if attempt >= LOCK_AFTER_FAILURES {
                return Err(locked(LOCK_MS));
            }
            return Err(ApiError::detail(
                ErrorCode::BadCredentials,
                "unknown merchant user or wrong password",
            ));
        }
        let token = format!("{TOKEN_PREFIX}{}", secrets::random_token()?);
        let now = now_ms();
        let mut tx = self.begin().await?;
        tx.delete_console_lock(merchant, user).await?;
        tx.insert_console_session(
            merchant,
            &secrets::sha256_hex(&token),
            user,
            now,
            now + CONSOLE_SESSION_MS,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%merchant, %user, "console signed in");
        Ok(ConsoleSignInResponse {
            console_token: token,
            expires_at: rfc3339(now + CONSOLE_SESSION_MS),
        })
    }

    /// The console session behind a console token: `SESSION_EXPIRED` when unknown or run out.
    pub async fn console_session(&self, token: &str) -> ApiResult<ConsoleSession> {
        let expired = || ApiError::new(ErrorCode::SessionExpired);
        let row = self
            .db()
            .console_session(&secrets::sha256_hex(token))
            .await?
            .ok_or_else(expired)?;
        if row.expires_at <= now_ms() {
            return Err(expired());
        }
        Ok(ConsoleSession {
            merchant_id: row.merchant_id,
            user: row.user_name,
        })
    }

    /// `GET /v1/console/terminals`: the merchant's terminals, flagged ones first.
    pub async fn console_terminals(&self, s: &ConsoleSession) -> ApiResult<ConsoleTerminals> {
        let last_cutoff = self.db().last_cutoff_at().await?;
        let now = now_ms();
        let mut terminals = Vec::new();
        for t in self.db().merchant_terminals(&s.merchant_id).await? {
            terminals.push(
                self.console_terminal(&s.merchant_id, &t, last_cutoff, now)
                    .await?,
            );
        }
        // Stable: by terminal id within each group.
        terminals.sort_by_key(|t| t.flags.is_empty());
        Ok(ConsoleTerminals { terminals })
    }

    /// A checkout terminal (R23) as the console shows it: the web shop as one row. Its lanes
    /// trade unattended and are not listed; it has no session to sign off and no flag.
    async fn checkout_terminal_row(
        &self,
        key: TerminalRef<'_>,
        terminal_id: &str,
    ) -> ApiResult<ConsoleTerminal> {
        Ok(ConsoleTerminal {
            terminal_id: terminal_id.to_owned(),
            state: TerminalState::Checkout,
            operator: None,
            since: None,
            last_seen: self
                .db()
                .newest_lane_transaction_at(key)
                .await?
                .map(rfc3339),
            open_batch: None,
            pending_reversals: 0,
            last_settlement: None,
            flags: Vec::new(),
        })
    }

    /// One terminal as the console shows it, read on readers (a poll never waits for the
    /// writer): its newest session, open batch, owed batches and reversals, last settlement.
    async fn console_terminal(
        &self,
        merchant_id: &str,
        t: &ConsoleTerminalRow,
        last_cutoff: Option<i64>,
        now: i64,
    ) -> ApiResult<ConsoleTerminal> {
        let key = TerminalRef {
            merchant_id,
            id: t.id,
        };
        let db = self.db();
        if t.checkout_origin.is_some() {
            return self.checkout_terminal_row(key, &t.terminal_id).await;
        }
        let session = db.newest_session(key).await?;
        let open_batch = match db.open_batch_lines(key).await? {
            Some((b, lines)) => Some(OpenBatch {
                batch_no: b.batch_no.get(),
                business_date: b.business_date,
                entries: u64::try_from(lines.len()).unwrap_or(u64::MAX),
                totals: host_totals(&lines, b.batch_no, &t.currency)?,
            }),
            None => None,
        };
        let closed_by_host = db.closed_by_host_count(key).await?;
        let pending_reversals = u64::try_from(db.owed_reversal_count(key).await?).unwrap_or(0);
        let last_settlement = match db.last_settled_batch(key).await? {
            Some(b) => Some(LastSettlement {
                batch_no: b.batch_no.get(),
                outcome: final_outcome(&b)?,
                settled_at: b.settled_at.map(rfc3339),
            }),
            None => None,
        };
        let last_tx = db.newest_transaction_at(key).await?;
        let last_seen = [last_tx, session.as_ref().map(|s| s.created_at)]
            .into_iter()
            .flatten()
            .max();
        let (state, since) = state_of(t.activated, session.as_ref(), now);
        let risks = Risks {
            not_signed_off: session
                .as_ref()
                .is_some_and(|s| not_signed_off(s, last_cutoff, now)),
            closed_by_host,
            pending_reversals,
            last_outcome: last_settlement.as_ref().map(|l| l.outcome),
        };
        Ok(ConsoleTerminal {
            terminal_id: t.terminal_id.clone(),
            state,
            operator: session.as_ref().map(|s| s.operator.clone()),
            since: since.map(rfc3339),
            last_seen: last_seen.map(rfc3339),
            open_batch,
            pending_reversals,
            last_settlement,
            flags: risks.flags(),
        })
    }

    /// `POST /v1/console/terminals/{terminal_id}/sign-off`: ends the terminal's session
    /// (`ended_by = 'console'`); its next request is answered `SIGNED_OFF_REMOTELY`. No
    /// transaction or batch is touched.
    pub async fn console_sign_off(
        &self,
        s: &ConsoleSession,
        terminal_id: &str,
    ) -> ApiResult<ConsoleSignOffResponse> {
        let unknown =
            || ApiError::bad_request("the merchant has no such terminal").with_status(404);
        if !is_terminal_id(terminal_id) {
            return Err(unknown());
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        let Some((id, _)) = tx.find_terminal(&s.merchant_id, terminal_id).await? else {
            return Err(unknown());
        };
        let key = TerminalRef {
            merchant_id: &s.merchant_id,
            id,
        };
        let ended = tx.console_end_sessions(key, now).await?;
        tx.commit().await?;
        tracing::info!(merchant = %s.merchant_id, user = %s.user, %terminal_id, ended,
            "terminal signed off from the console");
        Ok(ConsoleSignOffResponse {
            terminal_id: terminal_id.to_owned(),
            ended_sessions: ended,
            signed_off_at: rfc3339(now),
        })
    }

    /// `GET /v1/console/settlements`: the merchant's settlements of a range of business
    /// dates, with both sides' totals and every discrepancy, and the host's cut-offs.
    pub async fn console_settlements(
        &self,
        s: &ConsoleSession,
        q: &SettlementsQuery,
    ) -> ApiResult<ConsoleSettlements> {
        let (from, to) = self.history_range(q).await?;
        let terminal = q.terminal_id.as_deref().filter(|t| !t.is_empty());
        if terminal.is_some_and(|t| !is_terminal_id(t)) {
            return Err(ApiError::bad_request(
                "a terminal id is 8 letters or digits",
            ));
        }
        let mut settlements = Vec::new();
        for b in self
            .db()
            .settled_batches(&s.merchant_id, &from, &to, terminal)
            .await?
        {
            settlements.push(settlement_of(b)?);
        }
        let cutoffs = self
            .db()
            .cutoffs_between(&from, &to)
            .await?
            .into_iter()
            .map(|c| ConsoleCutoff {
                business_date: c.business_date,
                ran_at: rfc3339(c.ran_at),
                closed_batches: u64::try_from(c.closed_batches).unwrap_or(0),
            })
            .collect();
        Ok(ConsoleSettlements {
            from,
            to,
            settlements,
            cutoffs,
        })
    }

    /// The business dates asked for: `to` defaults to the host's business date, `from` to 30
    /// days before `to`; at most [`MAX_HISTORY_DAYS`].
    async fn history_range(&self, q: &SettlementsQuery) -> ApiResult<(String, String)> {
        let date = |text: &str| {
            Date::from_str(text)
                .ok()
                .filter(|_| text.len() == 10)
                .ok_or_else(|| ApiError::bad_request("a date is YYYY-MM-DD"))
        };
        let to = match q.to.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => date(t)?,
            None => date(&self.db().business_date().await?)?,
        };
        let from = match q.from.as_deref().filter(|f| !f.is_empty()) {
            Some(f) => date(f)?,
            None => to.saturating_sub(jiff::Span::new().days(30)),
        };
        let days = (to - from).get_days();
        if days < 0 {
            return Err(ApiError::bad_request("`from` is after `to`"));
        }
        if i64::from(days) > MAX_HISTORY_DAYS {
            return Err(ApiError::bad_request("at most 366 days at once"));
        }
        Ok((from.to_string(), to.to_string()))
    }
}

/// Where a terminal stands, and since when: signed in while its newest session is live,
/// else signed off (since that session ended or ran out), or never activated.
fn state_of(
    activated: bool,
    session: Option<&NewestSession>,
    now: i64,
) -> (TerminalState, Option<i64>) {
    let live = session.is_some_and(|s| s.ended_at.is_none() && s.expires_at > now);
    let state = match (activated, live) {
        (_, true) => TerminalState::SignedIn,
        (true, false) => TerminalState::SignedOff,
        (false, false) => TerminalState::Unactivated,
    };
    let since = session.map(|s| match (live, s.ended_at) {
        (true, _) => s.created_at,
        (false, Some(ended)) => ended,
        (false, None) => s.expires_at,
    });
    (state, since)
}

/// What the console flags of a terminal (docs/rules.md, R22).
struct Risks {
    not_signed_off: bool,
    closed_by_host: i64,
    pending_reversals: u64,
    last_outcome: Option<Outcome>,
}

impl Risks {
    fn flags(&self) -> Vec<Flag> {
        [
            (self.not_signed_off, Flag::NotSignedOff),
            (self.closed_by_host > 0, Flag::NotSettledPastCutoff),
            (self.pending_reversals > 0, Flag::PendingReversals),
            (
                self.last_outcome == Some(Outcome::Unbalanced),
                Flag::UnbalancedLastSettlement,
            ),
        ]
        .into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
        .collect()
    }
}

/// R22 `not_signed_off` (docs/rules.md): the terminal's newest session was never signed off.
/// It is live and began before the last cut-off or has outlived the session's 12 hours, or
/// the cut-off ended it (its operator left it signed in over the cut-off) and nobody has
/// signed in since. The console's sign-off marks it `console`, which clears the flag.
fn not_signed_off(s: &NewestSession, last_cutoff: Option<i64>, now: i64) -> bool {
    match s.ended_by {
        None if s.ended_at.is_none() => {
            last_cutoff.is_some_and(|c| s.created_at < c) || now - s.created_at >= SESSION_MS
        }
        Some(SessionEnd::Cutoff) => true,
        _ => false,
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> ApiResult<T> {
    serde_json::from_str(text).map_err(ApiError::internal)
}

/// What a stored settlement or upload answer says, as far as the console reads it.
#[derive(serde::Deserialize)]
struct StoredOutcome {
    outcome: Outcome,
    #[serde(default)]
    discrepancies: Vec<Discrepancy>,
}

/// The batch's outcome toward the terminal: the upload's when there was one, else the
/// settlement's.
fn final_outcome(b: &SettledBatchRow) -> ApiResult<Outcome> {
    let answer = b.upload_answer.as_deref().unwrap_or(&b.settle_answer);
    Ok(parse_json::<StoredOutcome>(answer)?.outcome)
}

pub(super) fn settlement_of(b: SettledBatchRow) -> ApiResult<ConsoleSettlement> {
    let awaiting_upload = settled_status(&b.status)? == "awaiting_upload";
    let outcome = final_outcome(&b)?;
    let discrepancies = match &b.upload_answer {
        Some(upload) => parse_json::<StoredOutcome>(upload)?.discrepancies,
        None => Vec::new(),
    };
    let totals = |t: &Option<String>| -> ApiResult<Option<BatchTotals>> {
        t.as_deref().map(parse_json).transpose()
    };
    let acquirer_outcome = match b.acquirer_outcome.as_deref() {
        None => None,
        Some("balanced") => Some(AcquirerVerdict::Balanced),
        Some("unbalanced") => Some(AcquirerVerdict::Unbalanced),
        Some("error") => Some(AcquirerVerdict::Error),
        Some(other) => return Err(crate::db::bad_row("batches.acquirer_outcome", other)),
    };
    Ok(ConsoleSettlement {
        terminal_totals: totals(&b.terminal_totals)?,
        host_totals: totals(&b.host_totals)?,
        business_date: b.business_date,
        terminal_id: b.terminal_id,
        batch_no: b.batch_no.get(),
        settled_at: b.settled_at.map(rfc3339),
        outcome,
        awaiting_upload,
        discrepancies,
        acquirer_outcome,
    })
}
