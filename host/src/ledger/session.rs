//! Activation, sign-in (R16) and sign-off (R12), the session behind a token, and what a
//! terminal is told of its batches.

use super::{fingerprint, host_totals, Answer, TerminalAuth};
use crate::acquirer::{self, host_trace, Acquirer, Management, Request};
use crate::db::{BatchRow, BatchState, Scope, SessionEnd, SessionRow, TerminalRef, Tx};
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::store::{now_ms, Store};
use softpos::ids::TraceNo;
use softpos::protocol::{
    ActivateRequest, ActivateResponse, BatchStatus, BatchTotals, ClosedBatch, CurrentBatchResponse,
    SignInRequest, SignInResponse, SignOffRequest, SignOffResponse,
};
use softpos::terminal::time::Timestamp;
use softpos::ErrorCode;

/// How long a session lives at most (a cut-off or sign-off ends it sooner).
pub(super) const SESSION_MS: i64 = 12 * 3600 * 1000;

/// The operator of a checkout lane's session (R23): not an operator id, so no password,
/// lockout or cashier is ever found for it.
pub const LANE_OPERATOR: &str = "web";

/// A live session: an operator signed in on a terminal.
#[derive(Debug, Clone)]
pub struct Session {
    /// The terminal.
    pub terminal: TerminalAuth,
    /// `"00"`..`"99"`.
    pub operator: String,
    /// SHA-256 of the token.
    pub token_hash: String,
    /// Ended by a sign-off (only the sign-off handler accepts such a session, to replay).
    pub ended: bool,
}

impl Session {
    /// The session of a stored row ([`Store::session`]): `SESSION_EXPIRED` when there is none
    /// or it ended or ran out, `SIGNED_OFF_REMOTELY` when the merchant's console ended it
    /// (R22). With `allow_signed_off`, a session ended by sign-off comes back marked `ended`.
    pub(super) fn judge(
        row: Option<SessionRow>,
        token_hash: String,
        allow_signed_off: bool,
    ) -> ApiResult<Session> {
        let expired = || ApiError::new(ErrorCode::SessionExpired);
        let row = row.ok_or_else(expired)?;
        // R22: the terminal is told the merchant ended it, in its own language.
        if row.ended && row.ended_by == Some(SessionEnd::Console) {
            return Err(ApiError::new(ErrorCode::SignedOffRemotely));
        }
        if row.ended && !(allow_signed_off && row.ended_by == Some(SessionEnd::SignOff)) {
            return Err(expired());
        }
        if !row.ended && row.expires_at <= now_ms() {
            return Err(expired());
        }
        Ok(Session {
            terminal: row.terminal,
            operator: row.operator,
            token_hash,
            ended: row.ended,
        })
    }

    /// R23: a checkout lane's session trades sales only (with their reversals, its batch's
    /// settlement and its sign-off); what else it asks for is `SALES_ONLY`.
    pub fn sales_only(&self) -> ApiResult<()> {
        if self.terminal.lane {
            return Err(ApiError::new(ErrorCode::SalesOnly));
        }
        Ok(())
    }
}

/// A batch's totals on the host (R10).
pub(super) async fn batch_totals(
    tx: &mut Tx,
    terminal: &TerminalAuth,
    b: &BatchRow,
) -> ApiResult<BatchTotals> {
    let tally = tx.batch_tally(&terminal.merchant_id, b.id).await?;
    Ok(tally.to_batch_totals(b.batch_no.get(), &terminal.currency))
}

impl Store {
    /// `POST /v1/activate`: a single-use code (24 h) becomes the terminal key; a new key
    /// replaces the old one and ends the terminal's sessions.
    pub async fn activate(&self, req: &ActivateRequest) -> ApiResult<ActivateResponse> {
        let now = now_ms();
        let code_hash = secrets::sha256_hex(secrets::normalise_code(&req.activation_code));
        let mut tx = self.begin().await?;
        let terminal_ref = tx
            .terminal_of_code(&code_hash, &req.merchant_id, &req.terminal_id, now)
            .await?
            .ok_or_else(|| {
                ApiError::detail(
                    ErrorCode::BadCredentials,
                    "unknown, used or expired activation code",
                )
            })?;
        let key = secrets::random_token()?;
        let terminal = TerminalRef {
            merchant_id: &req.merchant_id,
            id: terminal_ref,
        };
        tx.use_code(&req.merchant_id, &code_hash, now).await?;
        tx.set_terminal_key(terminal, &secrets::sha256_hex(&key))
            .await?;
        tx.end_sessions(terminal, SessionEnd::Activation, now)
            .await?;
        tx.commit().await?;
        Ok(ActivateResponse { terminal_key: key })
    }

    /// The terminal behind a terminal key, if any.
    pub async fn terminal_by_key(&self, key: &str) -> ApiResult<Option<TerminalAuth>> {
        self.db()
            .terminal_by_key_hash(&secrets::sha256_hex(key))
            .await
    }

    /// The session behind a token: `SESSION_EXPIRED` when unknown, ended or expired,
    /// `SIGNED_OFF_REMOTELY` when the merchant's console ended it (R22). With
    /// `allow_signed_off`, a session ended by sign-off comes back marked `ended` (so a retried
    /// sign-off can replay its answer).
    pub async fn session(&self, token: &str, allow_signed_off: bool) -> ApiResult<Session> {
        let token_hash = secrets::sha256_hex(token);
        let row = self.db().session(&token_hash).await?;
        Session::judge(row, token_hash, allow_signed_off)
    }

    /// `POST /v1/sign-in` (R16). A checkout lane has no cashier: its key signs in only at
    /// `POST /v1/checkout/sign-in` (R23).
    pub async fn sign_in(
        &self,
        terminal: &TerminalAuth,
        req: &SignInRequest,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<SignInResponse> {
        if terminal.lane {
            return Err(ApiError::detail(
                ErrorCode::SalesOnly,
                "a checkout lane signs in at /v1/checkout/sign-in",
            ));
        }
        self.check_operator(
            terminal,
            &req.operator,
            req.password.expose(),
            ErrorCode::BadCredentials,
        )
        .await?;
        self.open_session(terminal, &req.operator, acquirer).await
    }

    /// `POST /v1/checkout/sign-in` (R23): a lane's unattended session, its operator
    /// [`LANE_OPERATOR`], without a password (there is no cashier to type one; the lane's
    /// key is the credential). Any other terminal's key is `BAD_CREDENTIALS`, as an unknown one.
    pub async fn checkout_sign_in(
        &self,
        terminal: &TerminalAuth,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<SignInResponse> {
        if !terminal.lane {
            return Err(ApiError::detail(
                ErrorCode::BadCredentials,
                "not the key of a checkout lane",
            ));
        }
        self.open_session(terminal, LANE_OPERATOR, acquirer).await
    }

    /// A new session of `operator` on the terminal, once the acquirer accepted the sign-in.
    async fn open_session(
        &self,
        terminal: &TerminalAuth,
        operator: &str,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<SignInResponse> {
        // The operator signs in with the acquirer too, before any session is made: without
        // it the terminal could not transact.
        let request = Request::SignIn(self.management(terminal, operator).await?);
        let answer = acquirer::exchange(acquirer, request).await;
        if !answer.approved() {
            tracing::warn!(
                terminal_id = %terminal.terminal_id,
                ?answer,
                "the acquirer refused the sign-in"
            );
            return Err(ApiError::detail(
                ErrorCode::HostUnreachable,
                "the acquirer did not accept the sign-in; try again",
            ));
        }
        let now = now_ms();
        let token = secrets::random_token()?;
        let key = terminal.key();
        let mut tx = self.begin().await?;
        // One operator at a time on a terminal: a new sign-in ends the previous session.
        tx.end_sessions(key, SessionEnd::SignIn, now).await?;
        let token_hash = secrets::sha256_hex(&token);
        tx.insert_session(&token_hash, key, operator, now, now + SESSION_MS)
            .await?;
        let batch = tx.open_batch(key).await?;
        adopt_batch_no(&mut tx, terminal, &batch, &answer).await?;
        let business_date = tx.business_date().await?;
        let next_trace_no = tx
            .last_trace_no(key)
            .await?
            .map_or(TraceNo::FIRST, TraceNo::next);
        let closed_batches = closed_batches(&mut tx, terminal).await?;
        let confirm_above = tx.confirm_above(key).await?;
        let merchant_name = tx.merchant_name(key.merchant_id).await?;
        tx.commit().await?;
        let (timezone, utc_offset_minutes) = self.wall_clock();
        Ok(SignInResponse {
            session_token: token,
            expires_at: Timestamp(now + SESSION_MS).rfc3339(),
            operator: operator.to_owned(),
            business_date,
            batch_no: batch.batch_no,
            next_trace_no,
            currency: terminal.currency.clone(),
            closed_batches,
            confirm_above,
            timezone,
            utc_offset_minutes: Some(utc_offset_minutes),
            merchant_name,
        })
    }

    /// `GET /v1/batches/current`: a read, in one statement on a reader, so it never waits
    /// for the writer nor holds it from a sale, and holds its reader for one trip. Only a
    /// terminal left without an open batch (which `open_batch` repairs) takes the writer.
    pub async fn current_batch(&self, s: &Session) -> ApiResult<CurrentBatchResponse> {
        let terminal = &s.terminal;
        let (b, host_totals) = match self.db().open_batch_lines(terminal.key()).await? {
            Some((b, lines)) => {
                let totals = host_totals(&lines, b.batch_no, &terminal.currency)?;
                (b, totals)
            }
            None => {
                let mut tx = self.begin().await?;
                let b = tx.open_batch(terminal.key()).await?;
                let totals = batch_totals(&mut tx, terminal, &b).await?;
                tx.commit().await?;
                (b, totals)
            }
        };
        Ok(CurrentBatchResponse {
            batch_no: b.batch_no,
            business_date: b.business_date,
            status: BatchStatus::Open,
            host_totals,
        })
    }

    /// A sign-in or sign-off for the acquirer: the host's own trace number, the terminal's
    /// open batch as the acquirer knows it.
    async fn management(&self, terminal: &TerminalAuth, operator: &str) -> ApiResult<Management> {
        Ok(Management {
            terminal: acquirer::Terminal {
                terminal_id: terminal.terminal_id.clone(),
                merchant_id: terminal.merchant_id.clone(),
            },
            trace: host_trace(),
            batch: self.db().open_batch_upstream_no(terminal.key()).await?,
            operator: Some(operator.to_owned()),
        })
    }

    /// `POST /v1/sign-off` (R12), then the operator signs off with the acquirer. The
    /// terminal's sign-off stands whatever the acquirer answers: it only ends a session.
    pub async fn sign_off(
        &self,
        s: &Session,
        req: &SignOffRequest,
        acquirer: &dyn Acquirer,
    ) -> ApiResult<Answer> {
        let (answer, replayed) = self.end_session(s, req).await?;
        if !replayed {
            let request = Request::SignOff(self.management(&s.terminal, &s.operator).await?);
            let upstream = acquirer::exchange(acquirer, request).await;
            if !upstream.approved() {
                tracing::warn!(
                    terminal_id = %s.terminal.terminal_id,
                    answer = ?upstream,
                    "the acquirer refused the sign-off"
                );
            }
        }
        Ok(answer)
    }

    /// The sign-off on the host, and whether it is the stored answer of an earlier one.
    async fn end_session(&self, s: &Session, req: &SignOffRequest) -> ApiResult<(Answer, bool)> {
        let terminal = s.terminal.key();
        let fp = fingerprint(req)?;
        if let Some(id) = &req.request_id {
            if let Some(a) = self
                .stored_answer(terminal, Scope::SignOff, id, &fp)
                .await?
            {
                return Ok((a, true));
            }
        }
        if s.ended {
            return Err(ApiError::new(ErrorCode::SessionExpired));
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        if req.settle == Some(true) {
            let batch = tx.open_batch(terminal).await?;
            if tx
                .batch_has_transactions(terminal.merchant_id, batch.id)
                .await?
            {
                return Err(ApiError::bad_request(
                    "settle first: the open batch has transactions (POST /v1/settlements)",
                )
                .with_status(409));
            }
        }
        if !tx
            .end_session(
                terminal.merchant_id,
                &s.token_hash,
                SessionEnd::SignOff,
                now,
            )
            .await?
        {
            return Err(ApiError::new(ErrorCode::SessionExpired));
        }
        // R8 upstream: the terminal's reversals went first; its standby reversals end.
        self.end_standby(&mut tx, terminal.id).await?;
        let answer = Answer::ok(&SignOffResponse {
            signed_off_at: Timestamp(now).rfc3339(),
        })?;
        if let Some(id) = &req.request_id {
            tx.store_answer(terminal, Scope::SignOff, id, &answer.stored(&fp), now_ms())
                .await?;
        }
        tx.commit().await?;
        Ok((answer, false))
    }
}

/// The batch number the acquirer's sign-in answer assigns (60.2 of its 0810) becomes the
/// open batch's number toward the acquirer, unless the batch already carries transactions:
/// they went upstream under its number, and a batch split across two numbers could not settle
/// with the acquirer. The terminal's batch number stays the host's (docs/architecture.md,
/// "Batch numbers upstream").
async fn adopt_batch_no(
    tx: &mut Tx,
    terminal: &TerminalAuth,
    open: &BatchRow,
    answer: &acquirer::Answer,
) -> ApiResult<()> {
    let acquirer::Answer::Answered {
        batch: Some(assigned),
        ..
    } = answer
    else {
        return Ok(());
    };
    if *assigned == open.upstream_no() {
        return Ok(());
    }
    if tx
        .batch_has_transactions(&terminal.merchant_id, open.id)
        .await?
    {
        tracing::warn!(
            terminal_id = %terminal.terminal_id,
            assigned = assigned.get(),
            kept = open.upstream_no().get(),
            "the acquirer assigns another batch number to a batch with transactions; kept"
        );
        return Ok(());
    }
    tracing::info!(
        terminal_id = %terminal.terminal_id,
        batch_no = open.batch_no.get(),
        upstream_batch_no = assigned.get(),
        "the acquirer's batch number adopted"
    );
    tx.set_upstream_batch_no(&terminal.merchant_id, open.id, *assigned)
        .await
}

/// The terminal's batches closed at a cut-off and not yet settled, with the host's totals
/// (R15): a terminal signing in settles them.
async fn closed_batches(tx: &mut Tx, terminal: &TerminalAuth) -> ApiResult<Vec<ClosedBatch>> {
    let mut closed = Vec::new();
    for b in tx
        .batches_in_status(terminal.key(), BatchState::ClosedByHost)
        .await?
    {
        let host_totals = batch_totals(tx, terminal, &b).await?;
        closed.push(ClosedBatch {
            batch_no: b.batch_no,
            business_date: b.business_date,
            host_totals,
        });
    }
    Ok(closed)
}
