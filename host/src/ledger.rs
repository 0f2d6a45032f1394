//! The host's side of the terminal rules: sign-in (R16), sales, voids, refunds (R5–R7),
//! reversals (R8), idempotency (R9), settlement and batch upload (R10, R11), sign-off (R12).
//!
//! Every request's effects and its stored answer commit in one database transaction, so a
//! crash never leaves half a sale, and a retry finds either nothing or the whole answer.
//!
//! Each request arrives here already checked for its shape (`check()` in
//! `softpos::protocol`, called by the handlers in `api`): ids, numbers and amounts in range.

use crate::authorizer::{response_message, AuthRequest, Authorization, Authorizer};
use crate::error::{ApiError, ApiResult};
use crate::secrets;
use crate::secrets::FingerprintKey;
use crate::store::{next_number, now_ms, number_column, BatchRow, Store, Tx, TxRow, TX_COLUMNS};
use serde::Serialize;
use softpos::protocol::{
    ActivateRequest, ActivateResponse, BatchStatus, BatchTotals, ClosedBatch, CurrentBatchResponse,
    OriginalRef, Outcome, ReversalRequest, ReversalResponse, SettlementRequest, SettlementResponse,
    SignInRequest, SignInResponse, SignOffRequest, SignOffResponse, TransactionRequest,
    TransactionResponse, TxKind, TxStatus, UploadRequest, UploadResponse,
};
use softpos::terminal::card::{Expiry, Pan};
use softpos::terminal::journal::{genesis_hash, ledger_lines, verify_chain};
use softpos::terminal::money::Amount;
use softpos::terminal::settlement::{compare, fold, outcome, LedgerLine};
use softpos::terminal::time::{Timestamp, UtcOffset};
use softpos::ErrorCode;
use sqlx::{AnyConnection, Row};

/// How long a session lives at most (a cut-off or sign-off ends it sooner).
const SESSION_MS: i64 = 12 * 3600 * 1000;
/// R16: password checks of one operator on one terminal before the lock.
const LOCK_AFTER_FAILURES: i64 = 3;
/// R16.
const LOCK_MS: i64 = 15 * 60 * 1000;
/// An Argon2id hash (default parameters) of a password nobody has, verified for unknown
/// operators so they cost what a known one costs.
const UNKNOWN_OPERATOR_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$QuQQpA9cJSDVzyUhkxgAwg$hd4anJ89Ds26jWtX/BtB/fJfHfxExS4GOAm750HalrU";
/// R7.
const REFUND_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// The three questions every transaction request asks before it is booked, in one round trip:
/// was its id reversed (`tomb`), is it booked already (`existing`), is its trace number used in
/// the batch `b` (`used`). Binds `$1` terminal ref, `$2` request id, `$3` trace number. Each
/// sub-select is a lookup on a unique or covering index; text columns keep the result's types
/// the same on both databases.
const FRESH_COLUMNS: &str = "\
    (SELECT request_id FROM reversals WHERE terminal_ref = $1 AND request_id = $2) AS tomb, \
    (SELECT status FROM transactions WHERE terminal_ref = $1 AND request_id = $2) AS existing, \
    (SELECT request_id FROM transactions WHERE batch_id = b.id AND trace_no = $3 LIMIT 1) \
      AS used";

/// On SQLite, where the writer lock taken at `BEGIN IMMEDIATE` orders everything after every
/// other write: the terminal's open batch, the [`FRESH_COLUMNS`] on it, and the id the next
/// transaction row will get (`last_id` + 1; no other writer can take it before we commit), in
/// one statement. Binds `$1` terminal ref, `$2` request id, `$3` trace number.
fn sqlite_batch_checked() -> String {
    format!(
        "SELECT b.id AS id, b.batch_no AS batch_no, b.business_date AS business_date, \
         b.status AS status, {FRESH_COLUMNS}, \
         COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'transactions'), 0) AS last_id \
         FROM batches b WHERE b.terminal_ref = $1 AND b.status = 'open'"
    )
}

/// R9: where an answer is kept for the retry, and its columns. The values follow in each use.
const INSERT_ANSWER: &str =
    "INSERT INTO answers (terminal_ref, scope, request_id, fingerprint, status, body, at)";

/// A stored or fresh answer: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON text.
    pub body: String,
}

impl Answer {
    fn ok(value: &impl Serialize) -> ApiResult<Answer> {
        Ok(Answer {
            status: 200,
            body: serde_json::to_string(value).map_err(ApiError::internal)?,
        })
    }
}

/// The terminal behind a terminal key.
#[derive(Debug, Clone)]
pub struct TerminalAuth {
    /// Row id.
    pub terminal_ref: i64,
    /// 15 digits.
    pub merchant_id: String,
    /// 8 characters.
    pub terminal_id: String,
    /// ISO 4217.
    pub currency: String,
}

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

/// R9: SHA-256 of a request with its secrets taken out (the card replaced by its masked PAN
/// and a keyed MAC, passwords dropped), so the stored fingerprint can never reveal them.
fn fingerprint(value: &impl Serialize) -> ApiResult<String> {
    Ok(secrets::sha256_hex(
        serde_json::to_vec(value).map_err(ApiError::internal)?,
    ))
}

/// The card enters as an HMAC of its number and expiry under the host's key: another card
/// with the same first 6 and last 4 digits under a reused request id is a conflict, and
/// without the key the stored fingerprint cannot be matched against guessed cards.
fn tx_fingerprint(key: &FingerprintKey, req: &TransactionRequest) -> ApiResult<String> {
    #[derive(Serialize)]
    struct Shape<'a> {
        request_id: &'a str,
        kind: TxKind,
        trace_no: u32,
        amount: i64,
        currency: &'a str,
        masked_pan: Option<String>,
        card_mac: Option<String>,
        original: &'a Option<OriginalRef>,
    }
    fingerprint(&Shape {
        request_id: &req.request_id,
        kind: req.kind,
        trace_no: req.trace_no,
        amount: req.amount,
        currency: &req.currency,
        masked_pan: req
            .card
            .as_ref()
            .map(|c| Pan::parse(&c.pan).map_or_else(|_| "invalid".to_owned(), |p| p.masked())),
        card_mac: req
            .card
            .as_ref()
            .map(|c| key.card_mac(&c.pan, &c.expiry))
            .transpose()?,
        original: &req.original,
    })
}

fn rrn_of(id: i64) -> String {
    // The row id is unique across the whole database, so the RRN is unique per merchant.
    format!("{:012}", id.rem_euclid(1_000_000_000_000))
}

fn refused_reversed() -> ApiError {
    ApiError::bad_request("this request was reversed [冲正]; it is not booked").with_status(409)
}

fn busy() -> ApiError {
    ApiError::detail(
        ErrorCode::Busy,
        "this request is still being processed; ask again later",
    )
}

impl Store {
    async fn stored_answer(
        &self,
        terminal_ref: i64,
        scope: &str,
        request_id: &str,
        fingerprint: &str,
    ) -> ApiResult<Option<Answer>> {
        let row = sqlx::query(
            "SELECT fingerprint, status, body FROM answers \
             WHERE terminal_ref = $1 AND scope = $2 AND request_id = $3",
        )
        .bind(terminal_ref)
        .bind(scope)
        .bind(request_id)
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<String, _>("fingerprint")? != fingerprint {
            return Err(ApiError::new(ErrorCode::IdempotencyConflict));
        }
        Ok(Some(Answer {
            status: answer_status(&row)?,
            body: row.try_get("body")?,
        }))
    }

    async fn store_answer(
        &self,
        tx: &mut Tx,
        terminal_ref: i64,
        scope: &str,
        request_id: &str,
        fingerprint: &str,
        answer: &Answer,
    ) -> ApiResult<()> {
        sqlx::query(&format!(
            "{INSERT_ANSWER} VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(terminal_ref)
        .bind(scope)
        .bind(request_id)
        .bind(fingerprint)
        .bind(i64::from(answer.status))
        .bind(&answer.body)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// `POST /v1/activate`: a single-use code (24 h) becomes the terminal key; a new key
    /// replaces the old one and ends the terminal's sessions.
    pub async fn activate(&self, req: &ActivateRequest) -> ApiResult<ActivateResponse> {
        let now = now_ms();
        let code_hash = secrets::sha256_hex(secrets::normalise_code(&req.activation_code));
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT t.id FROM activation_codes c JOIN terminals t ON t.id = c.terminal_ref \
             WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2 \
             AND t.merchant_id = $3 AND t.terminal_id = $4",
        )
        .bind(&code_hash)
        .bind(now)
        .bind(&req.merchant_id)
        .bind(&req.terminal_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(ApiError::detail(
                ErrorCode::BadCredentials,
                "unknown, used or expired activation code",
            ));
        };
        let terminal_ref: i64 = row.try_get("id")?;
        let key = secrets::random_token()?;
        sqlx::query("UPDATE activation_codes SET used_at = $1 WHERE code_hash = $2")
            .bind(now)
            .bind(&code_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE terminals SET key_hash = $1 WHERE id = $2")
            .bind(secrets::sha256_hex(&key))
            .bind(terminal_ref)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = 'activation' \
             WHERE terminal_ref = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(terminal_ref)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ActivateResponse { terminal_key: key })
    }

    /// The terminal behind a terminal key, if any.
    pub async fn terminal_by_key(&self, key: &str) -> ApiResult<Option<TerminalAuth>> {
        let row = sqlx::query(
            "SELECT id, merchant_id, terminal_id, currency FROM terminals WHERE key_hash = $1",
        )
        .bind(secrets::sha256_hex(key))
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| -> ApiResult<TerminalAuth> {
            Ok(TerminalAuth {
                terminal_ref: r.try_get("id")?,
                merchant_id: r.try_get("merchant_id")?,
                terminal_id: r.try_get("terminal_id")?,
                currency: r.try_get("currency")?,
            })
        })
        .transpose()
    }

    /// The session behind a token: `SESSION_EXPIRED` when unknown, ended or expired. With
    /// `allow_signed_off`, a session ended by sign-off comes back marked `ended` (so a retried
    /// sign-off can replay its answer).
    pub async fn session(&self, token: &str, allow_signed_off: bool) -> ApiResult<Session> {
        let token_hash = secrets::sha256_hex(token);
        let row = sqlx::query(
            "SELECT s.operator, s.expires_at, s.ended_at, s.ended_by, t.id, t.merchant_id, \
             t.terminal_id, t.currency FROM sessions s JOIN terminals t ON t.id = s.terminal_ref \
             WHERE s.token_hash = $1",
        )
        .bind(&token_hash)
        .fetch_optional(self.reader())
        .await?;
        let expired = || ApiError::new(ErrorCode::SessionExpired);
        let row = row.ok_or_else(expired)?;
        let ended_at: Option<i64> = row.try_get("ended_at")?;
        let ended_by: Option<String> = row.try_get("ended_by")?;
        let ended = ended_at.is_some();
        if ended && !(allow_signed_off && ended_by.as_deref() == Some("sign_off")) {
            return Err(expired());
        }
        if !ended && row.try_get::<i64, _>("expires_at")? <= now_ms() {
            return Err(expired());
        }
        Ok(Session {
            terminal: TerminalAuth {
                terminal_ref: row.try_get("id")?,
                merchant_id: row.try_get("merchant_id")?,
                terminal_id: row.try_get("terminal_id")?,
                currency: row.try_get("currency")?,
            },
            operator: row.try_get("operator")?,
            token_hash,
            ended,
        })
    }

    /// Checks an operator's password on a terminal with the R16 lockout: three wrong ones in
    /// a row lock that operator on that terminal for 15 minutes; a right one clears the count.
    ///
    /// The attempt is counted before the check, in one statement ([`Store::take_attempt`]),
    /// so however many arrive at once no more than three are ever checked: the third sets the
    /// lock as it is taken, and only a right password among the three lifts it. Unknown
    /// operators are counted and checked (against a hash nobody has) like known ones. A turn
    /// among the bounded password checks comes first, so a burst waits for its turn or is
    /// answered `503 BUSY` before anything is counted.
    async fn check_operator(
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
        let Some(attempt) = self
            .take_attempt(terminal.terminal_ref, operator, now_ms())
            .await?
        else {
            let left = self.lock_left(terminal.terminal_ref, operator).await?;
            tracing::info!(merchant = %terminal.merchant_id, terminal = %terminal.terminal_id,
                %operator, %during, "refused: operator locked");
            return Err(locked(left));
        };
        let hash = sqlx::query(
            "SELECT password_hash FROM operators WHERE merchant_id = $1 AND operator = $2",
        )
        .bind(&terminal.merchant_id)
        .bind(operator)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get::<String, _>("password_hash"))
        .transpose()?;
        // An unknown operator costs the same Argon2 work as a known one: neither the answer
        // nor its timing tells which operators exist.
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| UNKNOWN_OPERATOR_HASH.to_owned());
        let right = secrets::verify_password(turn, password.to_owned(), hash).await? && known;
        if right {
            let mut tx = self.begin().await?;
            sqlx::query(
                "UPDATE operator_locks SET attempts = 0, locked_until = 0 \
                 WHERE terminal_ref = $1 AND operator = $2",
            )
            .bind(terminal.terminal_ref)
            .bind(operator)
            .execute(&mut *tx)
            .await?;
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

    /// Counts a password attempt of `operator` on a terminal before it is checked (R16), in
    /// one statement, so concurrent attempts in one process or several on one PostgreSQL are
    /// counted one by one. Returns the attempt's number (1..=3) since the last right password,
    /// or `None` while the operator is locked there. The third attempt sets the lock; a lock
    /// that has run out starts the count again.
    async fn take_attempt(
        &self,
        terminal_ref: i64,
        operator: &str,
        now: i64,
    ) -> ApiResult<Option<i64>> {
        let mut tx = self.begin().await?;
        let attempt = sqlx::query(
            "INSERT INTO operator_locks (terminal_ref, operator, attempts, locked_until) \
             VALUES ($1, $2, 1, 0) \
             ON CONFLICT (terminal_ref, operator) DO UPDATE SET \
             attempts = CASE WHEN operator_locks.locked_until <> 0 THEN 1 \
               ELSE operator_locks.attempts + 1 END, \
             locked_until = CASE WHEN operator_locks.locked_until = 0 \
               AND operator_locks.attempts + 1 >= $4 THEN $5 ELSE 0 END \
             WHERE operator_locks.locked_until <= $3 \
             AND (operator_locks.locked_until <> 0 OR operator_locks.attempts < $4) \
             RETURNING attempts",
        )
        .bind(terminal_ref)
        .bind(operator)
        .bind(now)
        .bind(LOCK_AFTER_FAILURES)
        .bind(now + LOCK_MS)
        .fetch_optional(&mut *tx)
        .await?
        .map(|row| row.try_get::<i64, _>("attempts"))
        .transpose()?;
        tx.commit().await?;
        Ok(attempt)
    }

    /// Milliseconds left of an operator's lock on a terminal (at least one second: a lock that
    /// ran out since [`Store::take_attempt`] refused still answers as locked).
    async fn lock_left(&self, terminal_ref: i64, operator: &str) -> ApiResult<i64> {
        let until: Option<i64> = sqlx::query(
            "SELECT locked_until FROM operator_locks WHERE terminal_ref = $1 AND operator = $2",
        )
        .bind(terminal_ref)
        .bind(operator)
        .fetch_optional(self.reader())
        .await?
        .map(|row| row.try_get("locked_until"))
        .transpose()?;
        Ok(until.map_or(LOCK_MS, |u| u - now_ms()).max(1000))
    }

    /// `POST /v1/sign-in` (R16).
    pub async fn sign_in(
        &self,
        terminal: &TerminalAuth,
        req: &SignInRequest,
    ) -> ApiResult<SignInResponse> {
        self.check_operator(
            terminal,
            &req.operator,
            &req.password,
            ErrorCode::BadCredentials,
        )
        .await?;
        let now = now_ms();
        let token = secrets::random_token()?;
        let mut tx = self.begin().await?;
        // One operator at a time on a terminal: a new sign-in ends the previous session.
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = 'sign_in' \
             WHERE terminal_ref = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(terminal.terminal_ref)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, terminal_ref, operator, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(secrets::sha256_hex(&token))
        .bind(terminal.terminal_ref)
        .bind(&req.operator)
        .bind(now)
        .bind(now + SESSION_MS)
        .execute(&mut *tx)
        .await?;
        let batch = self.open_batch(&mut tx, terminal.terminal_ref).await?;
        let business_date = self.business_date(&mut tx).await?;
        let last_trace = sqlx::query(
            "SELECT trace_no FROM transactions WHERE terminal_ref = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(terminal.terminal_ref)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| number_column(&r, "trace_no"))
        .transpose()?;
        let next_trace_no = last_trace.map_or(1, next_number);
        let mut closed_batches = Vec::new();
        for b in self
            .batches_in_status(&mut tx, terminal.terminal_ref, "closed_by_host")
            .await?
        {
            let host_totals = self.batch_totals(&mut tx, &b, &terminal.currency).await?;
            closed_batches.push(ClosedBatch {
                batch_no: b.batch_no,
                business_date: b.business_date,
                host_totals,
            });
        }
        tx.commit().await?;
        let (timezone, utc_offset_minutes) = self.wall_clock();
        Ok(SignInResponse {
            session_token: token,
            expires_at: Timestamp(now + SESSION_MS).rfc3339(),
            operator: req.operator.clone(),
            business_date,
            batch_no: batch.batch_no,
            next_trace_no,
            currency: terminal.currency.clone(),
            closed_batches,
            timezone,
            utc_offset_minutes: Some(utc_offset_minutes),
        })
    }

    async fn batch_totals(
        &self,
        tx: &mut Tx,
        b: &BatchRow,
        currency: &str,
    ) -> ApiResult<BatchTotals> {
        let lines = self.ledger_lines(tx, b.id).await?;
        host_totals(&lines, b.batch_no, currency)
    }

    /// `GET /v1/batches/current`: a read, in one statement on a reader, so it never waits
    /// for the writer nor holds it from a sale, and holds its reader for one trip. Only a
    /// terminal left without an open batch (which `open_batch` repairs) takes the writer.
    pub async fn current_batch(&self, s: &Session) -> ApiResult<CurrentBatchResponse> {
        let (terminal_ref, currency) = (s.terminal.terminal_ref, &s.terminal.currency);
        let (b, host_totals) = match self.open_batch_lines(terminal_ref).await? {
            Some((b, lines)) => {
                let totals = host_totals(&lines, b.batch_no, currency)?;
                (b, totals)
            }
            None => {
                let mut tx = self.begin().await?;
                let b = self.open_batch(&mut tx, terminal_ref).await?;
                let totals = self.batch_totals(&mut tx, &b, currency).await?;
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

    /// `POST /v1/transactions`.
    pub async fn transaction(
        &self,
        s: &Session,
        req: TransactionRequest,
        authorizer: &dyn Authorizer,
    ) -> ApiResult<Answer> {
        let fp = tx_fingerprint(self.fingerprint_key(), &req)?;
        let terminal_ref = s.terminal.terminal_ref;
        if req.kind != TxKind::Sale {
            // Looked up first so a retried void or refund skips the supervisor's Argon2 check.
            if let Some(a) = self
                .stored_answer(terminal_ref, "tx", &req.request_id, &fp)
                .await?
            {
                return Ok(a);
            }
            let amount = check_transaction(s, &req)?;
            return self.void_or_refund(s, req, amount, &fp).await;
        }
        // A sale takes the write transaction anyway, and `check_fresh` finds a stored answer
        // inside it, so no read goes ahead of it. When the sale is refused the stored answer is
        // looked up after all: a retry gets the first answer (R9) even when its card has expired
        // since or the sale was reversed after it was answered.
        let request_id = req.request_id.clone();
        let result = match check_transaction(s, &req) {
            Ok(amount) => self.sale(s, req, amount, &fp, authorizer).await,
            Err(e) => Err(e),
        };
        match result {
            Err(e) => Ok(self
                .stored_answer(terminal_ref, "tx", &request_id, &fp)
                .await?
                .ok_or(e)?),
            answered => answered,
        }
    }

    /// The terminal's open batch, locked (R15: a cut-off waits for us), and [`check_fresh`]
    /// on it.
    ///
    /// [`check_fresh`]: Store::check_fresh
    async fn open_batch_checked(
        &self,
        tx: &mut Tx,
        s: &Session,
        req: &TransactionRequest,
        fp: &str,
    ) -> ApiResult<(BatchRow, Option<Answer>)> {
        if !self.is_postgres() {
            // On SQLite the writer lock taken at `BEGIN IMMEDIATE` already orders this after
            // every other write, so the batch and the freshness questions fit in one statement.
            // (On PostgreSQL the questions must be a statement of their own, after the batch's
            // row lock is granted: only a new statement sees what the lock's holder committed.)
            let row = sqlx::query(&sqlite_batch_checked())
                .bind(s.terminal.terminal_ref)
                .bind(&req.request_id)
                .bind(i64::from(req.trace_no))
                .fetch_optional(&mut **tx)
                .await?;
            if let Some(row) = row {
                let batch = BatchRow::from_row(&row)?;
                let answer = self.judge_fresh(tx, s, req, &batch, fp, &row).await?;
                return Ok((batch, answer));
            }
        }
        let batch = self.open_batch(tx, s.terminal.terminal_ref).await?;
        let answer = self.check_fresh(tx, s, req, &batch, fp).await?;
        Ok((batch, answer))
    }

    /// Refuses a request id that was reversed or is in flight, and a trace number already used
    /// in the open batch (R9, R8). A twin of this request that finished while we waited for
    /// the batch lock gives its stored answer.
    async fn check_fresh(
        &self,
        tx: &mut AnyConnection,
        s: &Session,
        req: &TransactionRequest,
        batch: &BatchRow,
        fp: &str,
    ) -> ApiResult<Option<Answer>> {
        let fresh = sqlx::query(&format!(
            "SELECT {FRESH_COLUMNS} FROM batches b WHERE b.id = $4"
        ))
        .bind(s.terminal.terminal_ref)
        .bind(&req.request_id)
        .bind(i64::from(req.trace_no))
        .bind(batch.id)
        .fetch_one(&mut *tx)
        .await?;
        self.judge_fresh(tx, s, req, batch, fp, &fresh).await
    }

    /// [`check_fresh`]'s verdict on the [`FRESH_COLUMNS`] of a row.
    ///
    /// [`check_fresh`]: Store::check_fresh
    async fn judge_fresh(
        &self,
        tx: &mut AnyConnection,
        s: &Session,
        req: &TransactionRequest,
        batch: &BatchRow,
        fp: &str,
        fresh: &sqlx::any::AnyRow,
    ) -> ApiResult<Option<Answer>> {
        if fresh.try_get::<Option<String>, _>("tomb")?.is_some() {
            return Err(refused_reversed());
        }
        if let Some(status) = fresh.try_get::<Option<String>, _>("existing")? {
            if status == "pending" {
                return Err(busy());
            }
            // Inside the transaction: on SQLite the pool's one connection is this one.
            let stored = sqlx::query(
                "SELECT fingerprint, status, body FROM answers \
                 WHERE terminal_ref = $1 AND scope = 'tx' AND request_id = $2",
            )
            .bind(s.terminal.terminal_ref)
            .bind(&req.request_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(stored) = stored else {
                return Err(refused_reversed());
            };
            if stored.try_get::<String, _>("fingerprint")? != fp {
                return Err(ApiError::new(ErrorCode::IdempotencyConflict));
            }
            return Ok(Some(Answer {
                status: answer_status(&stored)?,
                body: stored.try_get("body")?,
            }));
        }
        if fresh.try_get::<Option<String>, _>("used")?.is_some() {
            return Err(ApiError::bad_request(format_args!(
                "trace number {} is already used in batch {}",
                req.trace_no, batch.batch_no
            )));
        }
        Ok(None)
    }

    /// R5 sale. When the issuer decides at once ([`Authorizer::decide_now`]) the sale and its
    /// answer are booked in one transaction: one commit, and nothing pending for a reversal to
    /// overtake (the reversal waits on the batch lock and then finds the answered sale).
    /// Otherwise in three steps, so a slow issuer holds no lock: book it `pending`, ask the
    /// issuer, then commit the answer unless a reversal arrived meanwhile (R8).
    async fn sale(
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
        let terminal_ref = s.terminal.terminal_ref;
        let request = AuthRequest {
            pan,
            amount,
            currency: req.currency.clone(),
        };

        if let Some(decision) = authorizer.decide_now(&request) {
            if !self.is_postgres() {
                let mut tx = self.begin_by_hand().await?;
                return match self
                    .sale_at_once_sqlite(&mut tx, s, &req, fp, &request, &decision)
                    .await
                {
                    Ok(answer) => {
                        tx.committed();
                        Ok(answer)
                    }
                    Err(e) => {
                        // A ROLLBACK that fails leaves the writer marked as inside a
                        // transaction, and whoever takes it next cleans up.
                        tx.rollback().await.ok();
                        Err(e)
                    }
                };
            }
            let mut tx = self.begin().await?;
            let (batch, answer) = self.open_batch_checked(&mut tx, s, &req, fp).await?;
            if let Some(answer) = answer {
                tx.commit().await?;
                return Ok(answer);
            }
            let approved = decision.approved();
            let auth_code = if approved {
                Some(secrets::auth_code()?)
            } else {
                None
            };
            // The RRN is made from the row id; the id is drawn in the INSERT itself so the RRN
            // goes in with the row instead of in a second statement.
            let id: i64 = sqlx::query(
                "INSERT INTO transactions (id, terminal_ref, merchant_id, batch_id, request_id, \
                 kind, trace_no, amount, status, response_code, auth_code, masked_pan, \
                 operator, created_at, rrn) \
                 SELECT n.id, $1, $2, $3, $4, 'sale', $5, $6, $7, $8, $9, $10, $11, $12, \
                 lpad(CAST(n.id % 1000000000000 AS TEXT), 12, '0') \
                 FROM (SELECT nextval(pg_get_serial_sequence('transactions', 'id')) AS id) n \
                 RETURNING id",
            )
            .bind(terminal_ref)
            .bind(&s.terminal.merchant_id)
            .bind(batch.id)
            .bind(&req.request_id)
            .bind(i64::from(req.trace_no))
            .bind(amount.get())
            .bind(if approved { "approved" } else { "declined" })
            .bind(decision.response_code)
            .bind(&auth_code)
            .bind(&masked)
            .bind(&s.operator)
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
            let rrn = rrn_of(id);
            let answer = sale_answer(&req, &decision, rrn, auth_code, &batch, masked)?;
            self.store_answer(&mut tx, terminal_ref, "tx", &req.request_id, fp, &answer)
                .await?;
            tx.commit().await?;
            return Ok(answer);
        }

        let mut tx = self.begin().await?;
        let (batch, answer) = self.open_batch_checked(&mut tx, s, &req, fp).await?;
        if let Some(answer) = answer {
            tx.commit().await?;
            return Ok(answer);
        }
        let id: i64 = sqlx::query(
            "INSERT INTO transactions (terminal_ref, merchant_id, batch_id, request_id, kind, \
             trace_no, amount, status, masked_pan, operator, created_at) \
             VALUES ($1, $2, $3, $4, 'sale', $5, $6, 'pending', $7, $8, $9) RETURNING id",
        )
        .bind(terminal_ref)
        .bind(&s.terminal.merchant_id)
        .bind(batch.id)
        .bind(&req.request_id)
        .bind(i64::from(req.trace_no))
        .bind(amount.get())
        .bind(&masked)
        .bind(&s.operator)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        tx.commit().await?;

        let decision = authorizer.authorize(request).await;

        let mut tx = self.begin().await?;
        // Lock order everywhere: the terminal's open batch, then other batches, then
        // transaction rows; so a reversal, a settlement or a cut-off waits for us or we for it.
        let open = self.open_batch(&mut tx, terminal_ref).await?;
        let row = sqlx::query(&format!(
            "SELECT status, batch_id FROM transactions WHERE id = $1{}",
            self.for_update()
        ))
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        if row.try_get::<String, _>("status")? != "pending" {
            // A reversal came while the issuer was deciding: the sale stays reversed.
            tx.commit().await?;
            return Err(refused_reversed());
        }
        let approved = decision.approved();
        let auth_code = if approved {
            Some(secrets::auth_code()?)
        } else {
            None
        };
        let rrn = rrn_of(id);
        // A batch closed (cut-off, settlement) while the issuer was deciding: the answer goes
        // into the batch open now, so it is counted exactly once.
        sqlx::query(
            "UPDATE transactions SET status = $1, response_code = $2, auth_code = $3, rrn = $4, \
             batch_id = $5 WHERE id = $6",
        )
        .bind(if approved { "approved" } else { "declined" })
        .bind(decision.response_code)
        .bind(&auth_code)
        .bind(&rrn)
        .bind(open.id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let answer = sale_answer(&req, &decision, rrn, auth_code, &open, masked)?;
        self.store_answer(&mut tx, terminal_ref, "tx", &req.request_id, fp, &answer)
            .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// [`sale`](Store::sale) on SQLite when the issuer decided at once: the same one
    /// transaction in two trips to sqlx's worker thread instead of five. The first begins it
    /// and asks everything (the open batch, [`FRESH_COLUMNS`], the next row id); the RRN,
    /// auth code and answer are made here; the second inserts the sale and its answer and
    /// commits. `Ok` only once the `COMMIT` ran; on `Err` the caller rolls back.
    async fn sale_at_once_sqlite(
        &self,
        tx: &mut Tx,
        s: &Session,
        req: &TransactionRequest,
        fp: &str,
        request: &AuthRequest,
        decision: &Authorization,
    ) -> ApiResult<Answer> {
        let masked = request.pan.masked();
        let terminal_ref = s.terminal.terminal_ref;
        let checked = sqlite_batch_checked();
        let rows = sqlx::query(&format!("BEGIN IMMEDIATE; {checked}"))
            .bind(terminal_ref)
            .bind(&req.request_id)
            .bind(i64::from(req.trace_no))
            .fetch_all(&mut **tx)
            .await?;
        let row = match rows.into_iter().next() {
            Some(row) => row,
            None => {
                // No open batch: `open_batch` repairs that (rare, so a few more trips).
                self.open_batch(tx, terminal_ref).await?;
                sqlx::query(&checked)
                    .bind(terminal_ref)
                    .bind(&req.request_id)
                    .bind(i64::from(req.trace_no))
                    .fetch_one(&mut **tx)
                    .await?
            }
        };
        let batch = BatchRow::from_row(&row)?;
        if let Some(answer) = self.judge_fresh(tx, s, req, &batch, fp, &row).await? {
            sqlx::query("COMMIT").execute(&mut **tx).await?;
            return Ok(answer);
        }
        let id = row.try_get::<i64, _>("last_id")? + 1;
        let approved = decision.approved();
        let auth_code = if approved {
            Some(secrets::auth_code()?)
        } else {
            None
        };
        let rrn = rrn_of(id);
        let answer = sale_answer(
            req,
            decision,
            rrn.clone(),
            auth_code.clone(),
            &batch,
            masked.clone(),
        )?;
        // One string, so one trip: the row with its answer and RRN, the answer (R9), COMMIT.
        // The worker stops at the first statement that fails, so COMMIT runs only when both
        // inserts did. `$1` and `$4` are the same argument in both inserts.
        sqlx::query(&format!(
            "INSERT INTO transactions (id, terminal_ref, merchant_id, batch_id, request_id, \
             kind, trace_no, amount, status, response_code, auth_code, masked_pan, operator, \
             created_at, rrn) \
             VALUES ($13, $1, $2, $3, $4, 'sale', $5, $6, $7, $8, $9, $10, $11, $12, $14); \
             {INSERT_ANSWER} VALUES ($1, 'tx', $4, $15, $16, $17, $12); \
             COMMIT"
        ))
        .bind(terminal_ref)
        .bind(&s.terminal.merchant_id)
        .bind(batch.id)
        .bind(&req.request_id)
        .bind(i64::from(req.trace_no))
        .bind(request.amount.get())
        .bind(if approved { "approved" } else { "declined" })
        .bind(decision.response_code)
        .bind(&auth_code)
        .bind(&masked)
        .bind(&s.operator)
        .bind(now_ms())
        .bind(id)
        .bind(&rrn)
        .bind(fp)
        .bind(i64::from(answer.status))
        .bind(&answer.body)
        .execute(&mut **tx)
        .await?;
        Ok(answer)
    }

    /// R6 void [撤销] and R7 refund [退货], authorised by the supervisor, in one transaction.
    async fn void_or_refund(
        &self,
        s: &Session,
        req: TransactionRequest,
        amount: Amount,
        fp: &str,
    ) -> ApiResult<Answer> {
        let original = req.original.clone().ok_or_else(|| {
            ApiError::bad_request("a void names original.trace_no, a refund original.rrn")
        })?;
        match (req.kind, &original) {
            (TxKind::Void, OriginalRef::Trace { .. })
            | (TxKind::Refund, OriginalRef::Rrn { .. }) => {}
            _ => {
                return Err(ApiError::bad_request(
                    "a void names original.trace_no, a refund original.rrn",
                ))
            }
        }
        let Some(password) = req.supervisor_password.as_deref() else {
            return Err(ApiError::new(ErrorCode::SupervisorRequired));
        };
        self.check_operator(&s.terminal, "00", password, ErrorCode::SupervisorRequired)
            .await
            .map_err(|e| {
                if e.code == ErrorCode::OperatorLocked {
                    ApiError::detail(ErrorCode::SupervisorRequired, e.message)
                } else {
                    e
                }
            })?;
        let terminal_ref = s.terminal.terminal_ref;
        let mut tx = self.begin().await?;
        let (batch, answer) = self.open_batch_checked(&mut tx, s, &req, fp).await?;
        if let Some(answer) = answer {
            tx.commit().await?;
            return Ok(answer);
        }
        let sale = match &original {
            OriginalRef::Trace { trace_no } => {
                self.void_target(&mut tx, terminal_ref, &batch, *trace_no, amount)
                    .await?
            }
            OriginalRef::Rrn { rrn } => self.refund_target(&mut tx, s, rrn, amount).await?,
        };
        let kind = req.kind.as_str();
        let id: i64 = sqlx::query(
            "INSERT INTO transactions (terminal_ref, merchant_id, batch_id, request_id, kind, \
             trace_no, amount, status, response_code, masked_pan, original_id, operator, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'approved', '00', $8, $9, $10, $11) \
             RETURNING id",
        )
        .bind(terminal_ref)
        .bind(&s.terminal.merchant_id)
        .bind(batch.id)
        .bind(&req.request_id)
        .bind(kind)
        .bind(i64::from(req.trace_no))
        .bind(amount.get())
        .bind(&sale.masked_pan)
        .bind(sale.id)
        .bind(&s.operator)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let rrn = rrn_of(id);
        let auth_code = secrets::auth_code()?;
        sqlx::query("UPDATE transactions SET rrn = $1, auth_code = $2 WHERE id = $3")
            .bind(&rrn)
            .bind(&auth_code)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let answer = Answer::ok(&TransactionResponse {
            request_id: req.request_id.clone(),
            status: TxStatus::Approved,
            response_code: "00".into(),
            message: response_message("00").into(),
            rrn: Some(rrn),
            auth_code: Some(auth_code),
            batch_no: batch.batch_no,
            trace_no: req.trace_no,
            masked_pan: sale.masked_pan.clone(),
            host_time: Timestamp(now_ms()).rfc3339(),
        })?;
        self.store_answer(&mut tx, terminal_ref, "tx", &req.request_id, fp, &answer)
            .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// R6: the approved, unvoided sale with this trace number in the open batch, marked voided.
    async fn void_target(
        &self,
        tx: &mut Tx,
        terminal_ref: i64,
        batch: &BatchRow,
        trace_no: u32,
        amount: Amount,
    ) -> ApiResult<TxRow> {
        let row = sqlx::query(&format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE batch_id = $1 AND trace_no = $2 \
             AND kind = 'sale'{}",
            self.for_update()
        ))
        .bind(batch.id)
        .bind(i64::from(trace_no))
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else {
            let settled = sqlx::query(
                "SELECT t.id FROM transactions t JOIN batches b ON b.id = t.batch_id \
                 WHERE t.terminal_ref = $1 AND t.trace_no = $2 AND t.kind = 'sale' \
                 AND t.status = 'approved' AND b.status <> 'open' LIMIT 1",
            )
            .bind(terminal_ref)
            .bind(i64::from(trace_no))
            .fetch_optional(&mut **tx)
            .await?;
            return Err(if settled.is_some() {
                ApiError::new(ErrorCode::VoidNotAllowedSettled)
            } else {
                ApiError::new(ErrorCode::UnknownTransaction)
            });
        };
        let sale = TxRow::from_row(&row)?;
        if sale.status != "approved" {
            return Err(ApiError::detail(
                ErrorCode::UnknownTransaction,
                format_args!("the sale with trace {trace_no} was not approved"),
            ));
        }
        if sale.voided {
            return Err(ApiError::new(ErrorCode::AlreadyVoided));
        }
        if sale.refunded_amount > 0 {
            return Err(ApiError::bad_request(
                "this sale was partly refunded; refund the rest instead of voiding it",
            ));
        }
        if sale.amount != amount.get() {
            return Err(ApiError::detail(
                ErrorCode::InvalidAmount,
                "a void is for the sale's full amount",
            ));
        }
        let done = sqlx::query("UPDATE transactions SET voided = 1 WHERE id = $1 AND voided = 0")
            .bind(sale.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if done != 1 {
            return Err(ApiError::new(ErrorCode::AlreadyVoided));
        }
        Ok(sale)
    }

    /// R7: the approved sale with this RRN (any terminal of the merchant, up to 30 days old),
    /// with the refund added to what it has refunded. The conditional UPDATE holds the
    /// cumulative limit even when two terminals refund the same sale at once.
    async fn refund_target(
        &self,
        tx: &mut Tx,
        s: &Session,
        rrn: &str,
        amount: Amount,
    ) -> ApiResult<TxRow> {
        let row = sqlx::query(&format!(
            "SELECT {TX_COLUMNS} FROM transactions WHERE merchant_id = $1 AND rrn = $2 \
             AND kind = 'sale'"
        ))
        .bind(&s.terminal.merchant_id)
        .bind(rrn)
        .fetch_optional(&mut **tx)
        .await?;
        let sale = row
            .map(|r| TxRow::from_row(&r))
            .transpose()?
            .filter(|t| t.status == "approved")
            .ok_or_else(|| ApiError::new(ErrorCode::UnknownTransaction))?;
        if sale.created_at < now_ms() - REFUND_WINDOW_MS {
            return Err(ApiError::detail(
                ErrorCode::UnknownTransaction,
                "the sale is more than 30 days old",
            ));
        }
        if sale.voided {
            return Err(ApiError::new(ErrorCode::AlreadyVoided));
        }
        if sale.terminal_ref != s.terminal.terminal_ref {
            let currency: String = sqlx::query("SELECT currency FROM terminals WHERE id = $1")
                .bind(sale.terminal_ref)
                .fetch_one(&mut **tx)
                .await?
                .try_get("currency")?;
            if currency != s.terminal.currency {
                return Err(ApiError::bad_request("the sale was in another currency"));
            }
        }
        let done = sqlx::query(
            "UPDATE transactions SET refunded_amount = refunded_amount + $1 \
             WHERE id = $2 AND voided = 0 AND status = 'approved' \
             AND refunded_amount + $1 <= amount",
        )
        .bind(amount.get())
        .bind(sale.id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if done != 1 {
            let left = sqlx::query("SELECT amount - refunded_amount AS left_over, voided, status FROM transactions WHERE id = $1")
                .bind(sale.id)
                .fetch_one(&mut **tx)
                .await?;
            if row_flag(&left, "voided")? {
                return Err(ApiError::new(ErrorCode::AlreadyVoided));
            }
            if left.try_get::<String, _>("status")? != "approved" {
                // Reversed while we waited for its row (R8).
                return Err(ApiError::detail(
                    ErrorCode::UnknownTransaction,
                    "the sale was reversed",
                ));
            }
            let left: i64 = left.try_get("left_over")?;
            return Err(ApiError::detail(
                ErrorCode::RefundExceedsOriginal,
                format_args!("at most {left} minor units are left to refund"),
            ));
        }
        Ok(sale)
    }

    /// `POST /v1/reversals` (R8): undoes a transaction of this terminal, or leaves a tombstone
    /// for a request id never seen so a late original is refused. Idempotent.
    ///
    /// A transaction with approved dependents (a sale with an approved void or refund, from any
    /// terminal) is not undone: the sale would leave the totals while its void or refund kept
    /// counting. The answer is `reversed: false` with the transaction's own answer, which
    /// stands. The check and the undo hold the transaction's row lock, which a void or refund
    /// of the same sale also needs, so neither can slip in between.
    pub async fn reversal(
        &self,
        s: &Session,
        req: &ReversalRequest,
    ) -> ApiResult<ReversalResponse> {
        let terminal_ref = s.terminal.terminal_ref;
        let mut tx = self.begin().await?;
        // Waits for a sale of this terminal that is being booked right now, so its pending
        // row is seen below and never slips past a tombstone.
        self.open_batch(&mut tx, terminal_ref).await?;
        let earlier = sqlx::query(
            "SELECT reversed FROM reversals WHERE terminal_ref = $1 AND request_id = $2",
        )
        .bind(terminal_ref)
        .bind(&req.request_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = earlier {
            let reversed = row_flag(&row, "reversed")?;
            let transaction = if reversed {
                None
            } else {
                self.standing_answer(&mut tx, terminal_ref, &req.request_id)
                    .await?
            };
            tx.commit().await?;
            return Ok(ReversalResponse {
                request_id: req.request_id.clone(),
                reversed,
                transaction,
            });
        }
        let target = sqlx::query(
            "SELECT batch_id FROM transactions WHERE terminal_ref = $1 AND request_id = $2",
        )
        .bind(terminal_ref)
        .bind(&req.request_id)
        .fetch_optional(&mut *tx)
        .await?;
        let mut reversed = false;
        let mut transaction = None;
        if let Some(target) = target {
            let batch_id: i64 = target.try_get("batch_id")?;
            let batch_status: String = sqlx::query(&format!(
                "SELECT status FROM batches WHERE id = $1{}",
                self.for_update()
            ))
            .bind(batch_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("status")?;
            let t = TxRow::from_row(
                &sqlx::query(&format!(
                    "SELECT {TX_COLUMNS} FROM transactions WHERE terminal_ref = $1 \
                     AND request_id = $2{}",
                    self.for_update()
                ))
                .bind(terminal_ref)
                .bind(&req.request_id)
                .fetch_one(&mut *tx)
                .await?,
            )?;
            // Money in a batch the terminal already settled stays as settled; a batch the
            // host closed at cut-off is not reconciled yet, so a reversal still applies there.
            let open = batch_status == "open" || batch_status == "closed_by_host";
            if open && !self.has_approved_dependents(&mut tx, &t).await? {
                reversed = true;
                if t.status != "reversed" {
                    sqlx::query("UPDATE transactions SET status = 'reversed' WHERE id = $1")
                        .bind(t.id)
                        .execute(&mut *tx)
                        .await?;
                    if t.status == "approved" {
                        self.undo_effect_on_original(&mut tx, &t).await?;
                    }
                }
            } else {
                transaction = self
                    .standing_answer(&mut tx, terminal_ref, &req.request_id)
                    .await?;
            }
        }
        sqlx::query(
            "INSERT INTO reversals (terminal_ref, request_id, reversed, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(terminal_ref)
        .bind(&req.request_id)
        .bind(i64::from(reversed))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(request_id = %req.request_id, reversed, "reversal");
        Ok(ReversalResponse {
            request_id: req.request_id.clone(),
            reversed,
            transaction,
        })
    }

    /// R8, dependents: whether undoing `t` (row-locked by the caller) would leave an approved
    /// void or refund counting without what it undid. A sale's dependents are its void and
    /// refunds. Undoing a void brings its sale back, so the void's dependents are the sale's
    /// refunds since (none while the void stands: a voided sale cannot be refunded; checked
    /// all the same). A refund has none: it only lowers what its sale has refunded.
    async fn has_approved_dependents(&self, tx: &mut Tx, t: &TxRow) -> ApiResult<bool> {
        if t.status != "approved" {
            return Ok(false);
        }
        match (t.kind.as_str(), t.original_id) {
            ("sale", _) => Ok(t.voided || t.refunded_amount > 0),
            ("void", Some(sale)) => {
                let refunded: i64 = sqlx::query(&format!(
                    "SELECT refunded_amount FROM transactions WHERE id = $1{}",
                    self.for_update()
                ))
                .bind(sale)
                .fetch_one(&mut **tx)
                .await?
                .try_get("refunded_amount")?;
                Ok(refunded > 0)
            }
            _ => Ok(false),
        }
    }

    /// The answer given to a transaction that stands (booked, answered, not reversed): what
    /// a reversal answers with when it undoes nothing (R8).
    async fn standing_answer(
        &self,
        tx: &mut Tx,
        terminal_ref: i64,
        request_id: &str,
    ) -> ApiResult<Option<TransactionResponse>> {
        let row = sqlx::query(
            "SELECT a.status AS status, a.body AS body FROM answers a \
             JOIN transactions t ON t.terminal_ref = a.terminal_ref \
             AND t.request_id = a.request_id \
             WHERE a.terminal_ref = $1 AND a.scope = 'tx' AND a.request_id = $2 \
             AND t.status IN ('approved', 'declined')",
        )
        .bind(terminal_ref)
        .bind(request_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        if row.try_get::<i64, _>("status")? != 200 {
            return Ok(None);
        }
        let body: String = row.try_get("body")?;
        serde_json::from_str(&body)
            .map(Some)
            .map_err(ApiError::internal)
    }

    async fn undo_effect_on_original(&self, tx: &mut Tx, t: &TxRow) -> ApiResult<()> {
        let Some(original) = t.original_id else {
            return Ok(());
        };
        let query = match t.kind.as_str() {
            "void" => {
                sqlx::query("UPDATE transactions SET voided = 0 WHERE id = $1").bind(original)
            }
            "refund" => sqlx::query(
                "UPDATE transactions SET refunded_amount = refunded_amount - $1 WHERE id = $2",
            )
            .bind(t.amount)
            .bind(original),
            _ => return Ok(()),
        };
        query.execute(&mut **tx).await?;
        Ok(())
    }

    /// `POST /v1/settlements` (R11, R14).
    pub async fn settle(&self, s: &Session, req: &SettlementRequest) -> ApiResult<Answer> {
        let terminal_ref = s.terminal.terminal_ref;
        let fp = fingerprint(req)?;
        if let Some(a) = self
            .stored_answer(terminal_ref, "settle", &req.request_id, &fp)
            .await?
        {
            return Ok(a);
        }
        let mut tx = self.begin().await?;
        let open = self.open_batch(&mut tx, terminal_ref).await?;
        let Some(batch) = self
            .batch_by_no(&mut tx, terminal_ref, req.batch_no)
            .await?
        else {
            return Err(ApiError::bad_request(format_args!(
                "this terminal has no batch {}",
                req.batch_no
            )));
        };
        let answer = match batch.status.as_str() {
            "open" | "closed_by_host" => {
                let host_totals = self
                    .batch_totals(&mut tx, &batch, &s.terminal.currency)
                    .await?;
                let result = outcome(&req.terminal_totals, &host_totals);
                let now = now_ms();
                let next_batch_no = if batch.status == "open" {
                    sqlx::query("UPDATE batches SET status = 'settling' WHERE id = $1")
                        .bind(batch.id)
                        .execute(&mut *tx)
                        .await?;
                    let date = self.business_date(&mut tx).await?;
                    self.insert_open_batch(
                        &mut tx,
                        terminal_ref,
                        next_number(batch.batch_no),
                        &date,
                    )
                    .await?
                    .batch_no
                } else {
                    open.batch_no
                };
                let response = SettlementResponse {
                    batch_no: batch.batch_no,
                    outcome: result,
                    host_totals: host_totals.clone(),
                    next_batch_no,
                };
                let answer = Answer::ok(&response)?;
                sqlx::query(
                    "UPDATE batches SET status = $1, closed_at = COALESCE(closed_at, $2), \
                     terminal_totals = $3, host_totals = $4, settle_answer = $5 WHERE id = $6",
                )
                .bind(match result {
                    Outcome::Balanced => "settled",
                    Outcome::Unbalanced => "awaiting_upload",
                })
                .bind(now)
                .bind(serde_json::to_string(&req.terminal_totals).map_err(ApiError::internal)?)
                .bind(serde_json::to_string(&host_totals).map_err(ApiError::internal)?)
                .bind(&answer.body)
                .bind(batch.id)
                .execute(&mut *tx)
                .await?;
                answer
            }
            _ => {
                // Already settled: the first settlement's answer stands.
                let body: Option<String> =
                    sqlx::query("SELECT settle_answer FROM batches WHERE id = $1")
                        .bind(batch.id)
                        .fetch_one(&mut *tx)
                        .await?
                        .try_get("settle_answer")?;
                Answer {
                    status: 200,
                    body: body.ok_or_else(|| ApiError::internal("settled batch without answer"))?,
                }
            }
        };
        self.store_answer(
            &mut tx,
            terminal_ref,
            "settle",
            &req.request_id,
            &fp,
            &answer,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(request_id = %req.request_id, batch_no = req.batch_no, "settlement");
        Ok(answer)
    }

    /// `POST /v1/settlements/{batch_no}/upload` (R11, R19).
    pub async fn upload(
        &self,
        s: &Session,
        batch_no: u32,
        req: &UploadRequest,
    ) -> ApiResult<Answer> {
        let terminal_ref = s.terminal.terminal_ref;
        let fp = fingerprint(&(batch_no, req))?;
        if let Some(a) = self
            .stored_answer(terminal_ref, "upload", &req.request_id, &fp)
            .await?
        {
            return Ok(a);
        }
        let genesis = genesis_hash(&s.terminal.merchant_id, &s.terminal.terminal_id, batch_no);
        verify_chain(&genesis, &req.entries)?;
        let mut tx = self.begin().await?;
        let open = self.open_batch(&mut tx, terminal_ref).await?;
        let Some(batch) = self.batch_by_no(&mut tx, terminal_ref, batch_no).await? else {
            return Err(ApiError::bad_request(format_args!(
                "this terminal has no batch {batch_no}"
            )));
        };
        let row = sqlx::query("SELECT terminal_totals, upload_answer FROM batches WHERE id = $1")
            .bind(batch.id)
            .fetch_one(&mut *tx)
            .await?;
        let answer = if let Some(body) = row.try_get::<Option<String>, _>("upload_answer")? {
            Answer { status: 200, body }
        } else if batch.status == "awaiting_upload" {
            let terminal_totals: BatchTotals = serde_json::from_str(
                &row.try_get::<Option<String>, _>("terminal_totals")?
                    .unwrap_or_default(),
            )
            .map_err(ApiError::internal)?;
            let host_lines = self.ledger_lines(&mut tx, batch.id).await?;
            let host_totals = host_totals(&host_lines, batch.batch_no, &s.terminal.currency)?;
            let discrepancies = compare(&ledger_lines(&req.entries), &host_lines);
            let result = if discrepancies.is_empty()
                && outcome(&terminal_totals, &host_totals) == Outcome::Balanced
            {
                Outcome::Balanced
            } else {
                Outcome::Unbalanced
            };
            let next_batch_no = open.batch_no;
            let answer = Answer::ok(&UploadResponse {
                batch_no,
                outcome: result,
                host_totals,
                discrepancies,
                next_batch_no,
            })?;
            sqlx::query("UPDATE batches SET status = 'settled', upload_answer = $1 WHERE id = $2")
                .bind(&answer.body)
                .bind(batch.id)
                .execute(&mut *tx)
                .await?;
            answer
        } else {
            return Err(ApiError::bad_request(format_args!(
                "batch {batch_no} is not waiting for an upload"
            )));
        };
        self.store_answer(
            &mut tx,
            terminal_ref,
            "upload",
            &req.request_id,
            &fp,
            &answer,
        )
        .await?;
        tx.commit().await?;
        Ok(answer)
    }

    /// `POST /v1/sign-off` (R12).
    pub async fn sign_off(&self, s: &Session, req: &SignOffRequest) -> ApiResult<Answer> {
        let terminal_ref = s.terminal.terminal_ref;
        let fp = fingerprint(req)?;
        if let Some(id) = &req.request_id {
            if let Some(a) = self
                .stored_answer(terminal_ref, "sign_off", id, &fp)
                .await?
            {
                return Ok(a);
            }
        }
        if s.ended {
            return Err(ApiError::new(ErrorCode::SessionExpired));
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        if req.settle == Some(true) {
            let batch = self.open_batch(&mut tx, terminal_ref).await?;
            if self.batch_has_transactions(&mut tx, batch.id).await? {
                return Err(ApiError::bad_request(
                    "settle first: the open batch has transactions (POST /v1/settlements)",
                )
                .with_status(409));
            }
        }
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = 'sign_off' \
             WHERE token_hash = $2 AND ended_at IS NULL",
        )
        .bind(now)
        .bind(&s.token_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if ended != 1 {
            return Err(ApiError::new(ErrorCode::SessionExpired));
        }
        let answer = Answer::ok(&SignOffResponse {
            signed_off_at: Timestamp(now).rfc3339(),
        })?;
        if let Some(id) = &req.request_id {
            self.store_answer(&mut tx, terminal_ref, "sign_off", id, &fp, &answer)
                .await?;
        }
        tx.commit().await?;
        Ok(answer)
    }
}

/// What only the session can tell about a transaction request (its shape was checked by
/// `TransactionRequest::check` in the handler): the amount as money and the terminal's currency.
fn check_transaction(s: &Session, req: &TransactionRequest) -> ApiResult<Amount> {
    let amount = Amount::new(req.amount)?;
    if req.currency != s.terminal.currency {
        return Err(ApiError::bad_request(format_args!(
            "this terminal takes {} only",
            s.terminal.currency
        )));
    }
    Ok(amount)
}

/// The answer to a sale, as stored (R9) and sent.
fn sale_answer(
    req: &TransactionRequest,
    decision: &Authorization,
    rrn: String,
    auth_code: Option<String>,
    batch: &BatchRow,
    masked_pan: String,
) -> ApiResult<Answer> {
    let approved = decision.approved();
    Answer::ok(&TransactionResponse {
        request_id: req.request_id.clone(),
        status: if approved {
            TxStatus::Approved
        } else {
            TxStatus::Declined
        },
        response_code: decision.response_code.to_owned(),
        message: response_message(decision.response_code).to_owned(),
        rrn: Some(rrn),
        auth_code,
        batch_no: batch.batch_no,
        trace_no: req.trace_no,
        masked_pan: Some(masked_pan),
        host_time: Timestamp(now_ms()).rfc3339(),
    })
}

/// R10 on the host's rows. Rows summed past i64 are a broken database, not the terminal's
/// error.
fn host_totals(lines: &[LedgerLine], batch_no: u32, currency: &str) -> ApiResult<BatchTotals> {
    Ok(fold(lines)
        .map_err(ApiError::internal)?
        .to_batch_totals(batch_no, currency))
}

/// The HTTP status of a stored answer; out of range, the row is bad.
fn answer_status(row: &sqlx::any::AnyRow) -> ApiResult<u16> {
    let status: i64 = row.try_get("status")?;
    u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s))
        .ok_or_else(|| crate::store::bad_row("answers.status", &status.to_string()))
}

fn row_flag(row: &sqlx::any::AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

fn locked(ms_left: i64) -> ApiError {
    let seconds = (ms_left + 999) / 1000;
    ApiError::detail(
        ErrorCode::OperatorLocked,
        format_args!("try again in {seconds} s"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authorizer::IssuerSimulator;
    use crate::store::CutoffClock;
    use softpos::protocol::CardData;
    use std::time::Duration;

    const MERCHANT: &str = "898310048160001";
    const CARD: &str = "4111111111111111";
    const HELD_BACK: &str = "4000000000003220";

    /// A fresh store on SQLite, and on PostgreSQL when `SOFTPOS_TEST_DATABASE_URL` is set (a
    /// database of its own, dropped at the end), with one signed-in terminal.
    async fn stores(dir: &std::path::Path) -> Vec<(Store, Session, Option<String>)> {
        let mut urls = vec![(format!("sqlite://{}", dir.join("host.db").display()), None)];
        if let Ok(admin) = std::env::var("SOFTPOS_TEST_DATABASE_URL") {
            if !admin.is_empty() {
                use sqlx::{Connection, Executor};
                // Tests in this binary run in parallel within one millisecond of each other:
                // only a random name keeps their databases apart.
                let name = format!("softpos_u_{}", uuid::Uuid::new_v4().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').unwrap().0;
                urls.push((format!("{base}/{name}"), Some(format!("{admin}|{name}"))));
            }
        }
        let mut out = Vec::new();
        for (url, drop) in urls {
            let store = Store::open(&url, &CutoffClock::default_clock())
                .await
                .unwrap();
            store
                .add_terminal(
                    MERCHANT,
                    "10000001",
                    softpos::terminal::money::Currency::Cny,
                )
                .await
                .unwrap();
            let row = sqlx::query("SELECT id FROM terminals WHERE terminal_id = '10000001'")
                .fetch_one(store.reader())
                .await
                .unwrap();
            let session = Session {
                terminal: TerminalAuth {
                    terminal_ref: row.try_get("id").unwrap(),
                    merchant_id: MERCHANT.into(),
                    terminal_id: "10000001".into(),
                    currency: "CNY".into(),
                },
                operator: "01".into(),
                token_hash: "unused".into(),
                ended: false,
            };
            out.push((store, session, drop));
        }
        out
    }

    async fn drop_pg(store: Store, drop: Option<String>) {
        store.close().await;
        if let Some((admin, name)) = drop.as_deref().and_then(|d| d.split_once('|')) {
            use sqlx::{Connection, Executor};
            let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
            conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .unwrap();
        }
    }

    fn sale(trace_no: u32, pan: &str) -> TransactionRequest {
        TransactionRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            kind: TxKind::Sale,
            trace_no,
            amount: 1250,
            currency: "CNY".into(),
            card: Some(CardData {
                pan: pan.into(),
                expiry: "12/39".into(),
            }),
            original: None,
            supervisor_password: None,
        }
    }

    #[tokio::test]
    async fn r5_r9_a_sale_the_issuer_decides_at_once_is_one_write_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = IssuerSimulator::default();
        for (store, s, drop) in stores(dir.path()).await {
            for (trace, pan, status) in [(1, CARD, "approved"), (2, "4000000000000002", "declined")]
            {
                let req = sale(trace, pan);
                let before = store.writes_begun();
                let first = store.transaction(&s, req.clone(), &issuer).await.unwrap();
                assert_eq!(store.writes_begun() - before, 1, "{pan}: one commit");
                let body: serde_json::Value = serde_json::from_str(&first.body).unwrap();
                assert_eq!(body["status"], status, "{body}");
                // R9: the retry is the stored answer, and books nothing more.
                let again = store.transaction(&s, req, &issuer).await.unwrap();
                assert_eq!(first, again);
            }
            let b = store.current_batch(&s).await.unwrap();
            assert_eq!(
                (b.host_totals.sale.count, b.host_totals.sale.amount),
                (1, 1250)
            );
            drop_pg(store, drop).await;
        }
    }

    #[tokio::test]
    async fn r8_the_held_back_card_stays_two_phase_and_a_reversal_overtakes_it() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = std::sync::Arc::new(IssuerSimulator {
            slow_card_delay: Duration::from_millis(1500),
        });
        for (store, s, drop) in stores(dir.path()).await {
            let req = sale(1, HELD_BACK);
            let before = store.writes_begun();
            let pending = {
                let (store, s, req, issuer) =
                    (store.clone(), s.clone(), req.clone(), issuer.clone());
                tokio::spawn(async move { store.transaction(&s, req, issuer.as_ref()).await })
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            // Booked pending and committed: the issuer is being asked outside any transaction.
            assert_eq!(store.writes_begun() - before, 1);
            let busy = store.transaction(&s, req.clone(), issuer.as_ref()).await;
            assert_eq!(busy.unwrap_err().code, ErrorCode::Busy);
            let rev = store
                .reversal(
                    &s,
                    &ReversalRequest {
                        request_id: req.request_id.clone(),
                    },
                )
                .await
                .unwrap();
            assert!(rev.reversed);
            let late = pending.await.unwrap().unwrap_err();
            assert_eq!((late.status, late.code), (409, ErrorCode::BadRequest));
            let b = store.current_batch(&s).await.unwrap();
            assert_eq!(
                b.host_totals.sale.count, 0,
                "the reversed sale counts nowhere"
            );
            drop_pg(store, drop).await;
        }
    }

    #[tokio::test]
    async fn r9_a_used_trace_number_is_refused_and_the_next_sale_is_booked() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = IssuerSimulator::default();
        for (store, s, drop) in stores(dir.path()).await {
            let first = store.transaction(&s, sale(7, CARD), &issuer).await.unwrap();
            let reused = store.transaction(&s, sale(7, CARD), &issuer).await;
            assert_eq!(reused.unwrap_err().code, ErrorCode::BadRequest);
            // The refusal rolled its transaction back: the writer books the next sale.
            let next = store.transaction(&s, sale(8, CARD), &issuer).await.unwrap();
            let rrn = |a: &Answer| {
                let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
                body["rrn"].as_str().unwrap().to_owned()
            };
            assert_ne!(rrn(&first), rrn(&next));
            let b = store.current_batch(&s).await.unwrap();
            assert_eq!(b.host_totals.sale.count, 2);
            drop_pg(store, drop).await;
        }
    }

    #[tokio::test]
    async fn r5_a_sale_without_an_open_batch_opens_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let issuer = IssuerSimulator::default();
        for (store, s, drop) in stores(dir.path()).await {
            sqlx::query("UPDATE batches SET status = 'settled'")
                .execute(store.reader())
                .await
                .unwrap();
            let a = store.transaction(&s, sale(1, CARD), &issuer).await.unwrap();
            let body: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            assert_eq!(
                (body["status"].as_str(), body["batch_no"].as_u64()),
                (Some("approved"), Some(2))
            );
            drop_pg(store, drop).await;
        }
    }
}
