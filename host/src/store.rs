//! The database: one `AnyPool` over SQLite or PostgreSQL, picked by the URL's scheme.
//!
//! Every query is written once with `$n` placeholders (both drivers take them) and column
//! types both share (BIGINT/INTEGER, TEXT). Row locks (`FOR UPDATE`) are added on PostgreSQL
//! only: SQLite has one writer at a time, and the host starts every SQLite write transaction
//! with `BEGIN IMMEDIATE` so it takes that writer lock up front instead of failing to upgrade.

use crate::error::{ApiError, ApiResult};
use crate::secrets::{self, FingerprintKey, PasswordChecks};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use softpos::protocol::TxKind;
use softpos::terminal::money::Currency;
use softpos::terminal::settlement::{LedgerLine, LineStatus};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row, Transaction};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// A write transaction. On PostgreSQL sqlx's own, on a pooled connection. On SQLite the
/// host's one writer connection, held from `BEGIN IMMEDIATE` to `COMMIT` and begun and ended
/// by hand: no pool stands between a request and the writer, because lending out and taking
/// back a pooled SQLite connection costs trips to its worker thread (sqlx pings every
/// connection given back) on the path every sale waits for.
///
/// Dereferences to the connection, for the statements of the transaction.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
}

#[derive(Debug)]
enum TxInner {
    Pooled(Transaction<'static, Any>),
    Writer(WriterGuard),
}

/// SQLite's writer connection. sqlx does not know about the transactions begun on it by
/// hand, so it would never roll one back: `in_tx` says one may be open, and whoever takes the
/// writer next rolls it back first ([`Store::lock_writer`]).
#[derive(Debug)]
struct Writer {
    /// `None` only after [`Store::close`].
    conn: Option<AnyConnection>,
    /// A transaction may be open: set before `BEGIN`, cleared once `COMMIT` or `ROLLBACK` ran.
    in_tx: bool,
    /// To open a fresh connection when a `ROLLBACK` fails.
    url: String,
}

/// The writer, held by one transaction.
#[derive(Debug)]
struct WriterGuard {
    guard: OwnedMutexGuard<Writer>,
    writer: Arc<Mutex<Writer>>,
}

impl WriterGuard {
    fn conn(&mut self) -> &mut AnyConnection {
        // `lock_writer` hands out the writer only with its connection.
        self.guard
            .conn
            .as_mut()
            .expect("a locked writer has its connection")
    }

    /// Ends the transaction begun by hand with `COMMIT` or `ROLLBACK`; the writer stays marked
    /// as inside it when that fails, so the next holder rolls back.
    async fn end(mut self, statement: &str) -> Result<(), sqlx::Error> {
        sqlx::query(statement).execute(self.conn()).await?;
        self.guard.in_tx = false;
        Ok(())
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        if self.guard.in_tx {
            // Cancelled, refused or failed inside its transaction: roll it back now rather than
            // when the next write comes, so SQLite's write lock is not held meanwhile (another
            // process, a `cutoff` run, may be waiting for it). The lock taken in the task does
            // the rollback; if a request takes the writer first, it does.
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let writer = self.writer.clone();
                rt.spawn(async move {
                    if let Err(e) = lock_writer(&writer).await {
                        tracing::warn!(error = %e, "cannot roll back the writer's transaction");
                    }
                });
            }
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        match &self.inner {
            TxInner::Pooled(tx) => tx,
            // `lock_writer` hands out the writer only with its connection.
            TxInner::Writer(w) => w
                .guard
                .conn
                .as_ref()
                .expect("a locked writer has its connection"),
        }
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        match &mut self.inner {
            TxInner::Pooled(tx) => tx,
            TxInner::Writer(w) => w.conn(),
        }
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pooled(tx) => tx.commit().await,
            TxInner::Writer(w) => w.end("COMMIT").await,
        }
    }

    /// Rolls back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pooled(tx) => tx.rollback().await,
            TxInner::Writer(w) => w.end("ROLLBACK").await,
        }
    }

    /// A transaction from [`Store::begin_by_hand`] ran a string ending in `COMMIT` without
    /// error: the writer is outside any transaction again.
    pub fn committed(self) {
        if let TxInner::Writer(mut w) = self.inner {
            w.guard.in_tx = false;
        }
    }
}

/// Takes SQLite's writer, first rolling back a transaction a previous holder left open. A
/// `ROLLBACK` that fails (no transaction was open after all, its `BEGIN` having failed, or the
/// connection is broken) is answered with a fresh connection: closing the old one rolls back
/// whatever it still had open.
async fn lock_writer(writer: &Arc<Mutex<Writer>>) -> Result<OwnedMutexGuard<Writer>, sqlx::Error> {
    let mut guard = writer.clone().lock_owned().await;
    // Through a plain `&mut`, so the connection and the flag can be borrowed apart.
    let w = &mut *guard;
    let Some(conn) = w.conn.as_mut() else {
        return Err(sqlx::Error::PoolClosed);
    };
    if w.in_tx {
        if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
            let fresh = connect_writer(&w.url).await?;
            if let Some(old) = w.conn.replace(fresh) {
                old.close().await.ok();
            }
        }
        w.in_tx = false;
    }
    Ok(guard)
}

/// Opens SQLite's writer connection. WAL lets readers go on while a write commits;
/// busy_timeout makes a second process (a `cutoff` run) wait for the writer lock instead of
/// failing.
async fn connect_writer(url: &str) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = AnyConnection::connect(url).await?;
    for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA busy_timeout = 10000"] {
        sqlx::query(pragma).execute(&mut conn).await?;
    }
    Ok(conn)
}

/// Brings an SQLite database's schema up to date. A migration that rebuilds a table (to add a
/// CHECK, the only way SQLite can) must run with foreign keys off, and that can only be set
/// outside a transaction, so here around the migrator, which runs each migration in one; the
/// keys are checked before they are turned back on (SQLite's documented procedure).
async fn migrate_sqlite(conn: &mut AnyConnection) -> Result<(), String> {
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    let migrated = sqlx::migrate!("./migrations/sqlite")
        .run(&mut *conn)
        .await
        .map_err(|e| e.to_string());
    let broken = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await
        .map_err(|e| e.to_string())?;
    migrated?;
    if !broken.is_empty() {
        return Err(format!("{} rows break a foreign key", broken.len()));
    }
    Ok(())
}

/// How long an activation code stays valid.
pub const ACTIVATION_VALID_MS: i64 = 24 * 3600 * 1000;

/// The host's storage.
#[derive(Clone, Debug)]
pub struct Store {
    /// PostgreSQL: every connection. SQLite: the readers, for reads outside a transaction
    /// (sessions, keys, stored answers); WAL lets them read while the writer commits, so
    /// checking a session never queues behind a sale.
    pool: AnyPool,
    /// SQLite: the one connection that writes. SQLite has a single writer anyway, and one
    /// connection never waits on itself.
    writer: Option<Arc<Mutex<Writer>>>,
    pg: bool,
    /// Write transactions begun, so a test can see how many a request took.
    writes: Arc<AtomicU64>,
    /// The bound on Argon2 checks at once (R16).
    password_checks: Arc<PasswordChecks>,
    /// The key of the card's part of idempotency fingerprints (R9).
    fingerprint_key: Arc<FingerprintKey>,
    /// The merchants' time zone (`--timezone`), told to terminals at sign-in.
    tz: TimeZone,
}

impl Store {
    /// The merchants' wall clock now: the zone's IANA name and its offset from UTC in minutes
    /// (it changes with daylight saving, so it is asked each time).
    pub fn wall_clock(&self) -> (Option<String>, i32) {
        let offset = self.tz.to_offset(jiff::Timestamp::now()).seconds() / 60;
        (self.tz.iana_name().map(str::to_owned), offset)
    }
}

/// Milliseconds since the epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// When and where the business day ends (R15).
#[derive(Debug, Clone)]
pub struct CutoffClock {
    /// Local time of the cut-off.
    pub at: Time,
    /// The merchants' time zone.
    pub tz: TimeZone,
}

impl CutoffClock {
    /// Parses `HH:MM` and an IANA zone name.
    pub fn parse(at: &str, tz: &str) -> Result<CutoffClock, String> {
        let (h, m) = at
            .split_once(':')
            .ok_or_else(|| format!("--cutoff {at:?} is not HH:MM"))?;
        let h: i8 = h
            .parse()
            .map_err(|_| format!("--cutoff {at:?} is not HH:MM"))?;
        let m: i8 = m
            .parse()
            .map_err(|_| format!("--cutoff {at:?} is not HH:MM"))?;
        let at = Time::new(h, m, 0, 0).map_err(|e| format!("--cutoff {at:?}: {e}"))?;
        let tz = TimeZone::get(tz).map_err(|e| format!("--timezone {tz:?}: {e}"))?;
        Ok(CutoffClock { at, tz })
    }

    /// The default: 23:00 in Asia/Shanghai.
    pub fn default_clock() -> CutoffClock {
        // Both literals are valid; the fallback only guards a build without the tz database.
        CutoffClock::parse("23:00", "Asia/Shanghai").unwrap_or(CutoffClock {
            at: Time::constant(23, 0, 0, 0),
            tz: TimeZone::UTC,
        })
    }

    /// The business date a transaction made now belongs to: after the cut-off time it is
    /// already tomorrow's.
    pub fn business_date_now(&self) -> Date {
        let now = jiff::Timestamp::now().to_zoned(self.tz.clone());
        let today = now.date();
        if now.time() >= self.at {
            today.tomorrow().unwrap_or(today)
        } else {
            today
        }
    }

    /// How long until the next cut-off.
    pub fn until_next(&self) -> Duration {
        let now = jiff::Timestamp::now().to_zoned(self.tz.clone());
        let mut fire = now.date().to_datetime(self.at);
        if now.datetime() >= fire {
            fire = fire.tomorrow().unwrap_or(fire);
        }
        let fire = fire
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(now.timestamp());
        let ms = fire.duration_since(now.timestamp()).as_millis().max(0);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0) + 50)
    }
}

/// What one run of the cut-off did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutoffReport {
    /// The business date closed, or `None` when another process (or an earlier run) did it.
    pub closed_date: Option<String>,
    /// Batches closed (`closed_by_host`).
    pub closed_batches: u64,
    /// The business date from now on.
    pub business_date: String,
}

/// A transaction row, reduced to what the rules look at.
#[derive(Debug, Clone)]
pub struct TxRow {
    /// Row id (the RRN is derived from it).
    pub id: i64,
    /// `sale`, `void`, `refund`.
    pub kind: String,
    /// Minor units.
    pub amount: i64,
    /// `pending`, `approved`, `declined`, `reversed`.
    pub status: String,
    /// Voided (sales).
    pub voided: bool,
    /// Sum of approved refunds (sales).
    pub refunded_amount: i64,
    /// Masked PAN.
    pub masked_pan: Option<String>,
    /// The sale a void or refund undoes.
    pub original_id: Option<i64>,
    /// When it was booked.
    pub created_at: i64,
    /// Its terminal.
    pub terminal_ref: i64,
}

/// The columns `TxRow::from_row` reads.
pub const TX_COLUMNS: &str = "id, kind, amount, status, voided, refunded_amount, masked_pan, original_id, created_at, terminal_ref";

impl TxRow {
    /// Reads the [`TX_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> Result<TxRow, sqlx::Error> {
        Ok(TxRow {
            id: row.try_get("id")?,
            kind: row.try_get("kind")?,
            amount: row.try_get("amount")?,
            status: row.try_get("status")?,
            voided: row.try_get::<i64, _>("voided")? != 0,
            refunded_amount: row.try_get("refunded_amount")?,
            masked_pan: row.try_get("masked_pan")?,
            original_id: row.try_get("original_id")?,
            created_at: row.try_get("created_at")?,
            terminal_ref: row.try_get("terminal_ref")?,
        })
    }
}

/// A batch row.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// Row id.
    pub id: i64,
    /// The batch number (1..=999999).
    pub batch_no: u32,
    /// `YYYY-MM-DD`.
    pub business_date: String,
    /// `open`, `awaiting_upload`, `settled`, `closed_by_host`.
    pub status: String,
}

const BATCH_COLUMNS: &str = "id, batch_no, business_date, status";

impl BatchRow {
    /// Reads `id, batch_no, business_date, status`.
    pub fn from_row(row: &AnyRow) -> Result<BatchRow, sqlx::Error> {
        Ok(BatchRow {
            id: row.try_get("id")?,
            batch_no: number_column(row, "batch_no")?,
            business_date: row.try_get("business_date")?,
            status: row.try_get("status")?,
        })
    }
}

/// A ledger line from `request_id, kind, trace_no, amount` and the transaction's status in
/// column `status`. A kind or status no rule writes is a bad row, never read as another.
fn ledger_line(row: &AnyRow, status: &str) -> ApiResult<LedgerLine> {
    let kind = match row.try_get::<String, _>("kind")?.as_str() {
        "sale" => TxKind::Sale,
        "void" => TxKind::Void,
        "refund" => TxKind::Refund,
        other => return Err(bad_row("transactions.kind", other)),
    };
    let status = match row.try_get::<String, _>(status)?.as_str() {
        "approved" => LineStatus::Approved,
        "declined" => LineStatus::Declined,
        // Neither counts anywhere: a pending sale not yet, a reversed one never.
        "reversed" | "pending" => LineStatus::Reversed,
        other => return Err(bad_row("transactions.status", other)),
    };
    Ok(LedgerLine {
        request_id: row.try_get("request_id")?,
        kind,
        trace_no: number_column(row, "trace_no")?,
        amount: row.try_get("amount")?,
        status,
    })
}

/// A batch or trace number read from the database: in 1..=999999, or the row is bad and
/// reading it is an error (logged as `INTERNAL` where it surfaces), never a silent 0.
pub fn number_column(row: &AnyRow, column: &str) -> Result<u32, sqlx::Error> {
    let n: i64 = row.try_get(column)?;
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=999_999).contains(n))
        .ok_or_else(|| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: format!("{n} is not a batch or trace number (1..=999999)").into(),
        })
}

/// The number after `n` in 1..=999999 (batch and trace numbers wrap to 1).
pub fn next_number(n: u32) -> u32 {
    if n >= 999_999 {
        1
    } else {
        n + 1
    }
}

impl Store {
    /// Opens (and on SQLite creates) the database and brings its schema up to date.
    pub async fn open(url: &str, clock: &CutoffClock) -> Result<Store, String> {
        sqlx::any::install_default_drivers();
        let pg = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let store = if pg {
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(60))
                .connect(url)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            sqlx::migrate!("./migrations/postgres")
                .run(&pool)
                .await
                .map_err(|e| format!("cannot migrate the database: {e}"))?;
            Store {
                pool,
                writer: None,
                pg,
                writes: Arc::new(AtomicU64::new(0)),
                password_checks: Arc::default(),
                // Loaded by `open` before it returns the store.
                fingerprint_key: Arc::new(FingerprintKey::unset()),
                tz: clock.tz.clone(),
            }
        } else if url.starts_with("sqlite:") {
            // `mode=rwc` creates the file on first use.
            let sep = if url.contains('?') { '&' } else { '?' };
            let url = if url.contains("mode=") {
                url.to_owned()
            } else {
                format!("{url}{sep}mode=rwc")
            };
            let mut conn = connect_writer(&url)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            migrate_sqlite(&mut conn)
                .await
                .map_err(|e| format!("cannot migrate the database: {e}"))?;
            let pool = AnyPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(60))
                // sqlx pings every connection before lending it out: for a connection that
                // lives in this process and cannot break, a trip to its worker thread for
                // nothing.
                .test_before_acquire(false)
                .connect(&url)
                .await
                .map_err(|e| format!("cannot open the database: {e}"))?;
            Store {
                pool,
                writer: Some(Arc::new(Mutex::new(Writer {
                    conn: Some(conn),
                    in_tx: false,
                    url,
                }))),
                pg,
                writes: Arc::new(AtomicU64::new(0)),
                password_checks: Arc::default(),
                // Loaded by `open` before it returns the store.
                fingerprint_key: Arc::new(FingerprintKey::unset()),
                tz: clock.tz.clone(),
            }
        } else {
            return Err(format!(
                "--db {url:?}: use sqlite://FILE or postgres://USER:PASSWORD@HOST/DB"
            ));
        };
        let init = async {
            let mut tx = store.begin().await?;
            sqlx::query(
                "INSERT INTO host_state (id, business_date) VALUES (1, $1) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(clock.business_date_now().to_string())
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        };
        init.await
            .map_err(|e: sqlx::Error| format!("cannot initialise the database: {e}"))?;
        let key = store
            .stored_fingerprint_key()
            .await
            .map_err(|e| format!("cannot initialise the database: {}", e.message))?;
        Ok(store.with_fingerprint_key(key))
    }

    /// The fingerprint key kept in the database, made on first start. The insert-if-absent
    /// lets several hosts on one PostgreSQL start together and agree on one key.
    async fn stored_fingerprint_key(&self) -> ApiResult<FingerprintKey> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO host_secrets (name, value) VALUES ('fingerprint_key', $1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(FingerprintKey::generate_hex()?)
        .execute(&mut *tx)
        .await?;
        let hex: String =
            sqlx::query("SELECT value FROM host_secrets WHERE name = 'fingerprint_key'")
                .fetch_one(&mut *tx)
                .await?
                .try_get("value")?;
        tx.commit().await?;
        FingerprintKey::from_hex(&hex).map_err(ApiError::internal)
    }

    /// The same store with another fingerprint key (`serve --fingerprint-key-file`).
    pub fn with_fingerprint_key(mut self, key: FingerprintKey) -> Store {
        self.fingerprint_key = Arc::new(key);
        self
    }

    /// The key of the card's part of idempotency fingerprints.
    pub fn fingerprint_key(&self) -> &FingerprintKey {
        &self.fingerprint_key
    }

    /// The same store with another bound on password checks (`serve --password-checks`).
    pub fn with_password_checks(mut self, checks: PasswordChecks) -> Store {
        self.password_checks = Arc::new(checks);
        self
    }

    /// The bound on password checks at once.
    pub fn password_checks(&self) -> &PasswordChecks {
        &self.password_checks
    }

    /// The pool for reads outside a transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes every connection (SQLite checkpoints its WAL into the file).
    pub async fn close(&self) {
        self.pool.close().await;
        if let Some(writer) = &self.writer {
            if let Ok(mut w) = lock_writer(writer).await {
                if let Some(conn) = w.conn.take() {
                    conn.close().await.ok();
                }
            }
        }
    }

    /// Write transactions begun since the store opened.
    #[cfg(test)]
    pub fn writes_begun(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Whether the database is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.pg
    }

    /// `" FOR UPDATE"` on PostgreSQL, nothing on SQLite (whose writer lock covers it).
    pub fn for_update(&self) -> &'static str {
        if self.pg {
            " FOR UPDATE"
        } else {
            ""
        }
    }

    /// Begins a transaction that will write.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        let Some(writer) = &self.writer else {
            return Ok(Tx {
                inner: TxInner::Pooled(self.pool.begin().await?),
            });
        };
        let mut w = WriterGuard {
            guard: lock_writer(writer).await?,
            writer: writer.clone(),
        };
        // `IMMEDIATE` takes the writer lock up front instead of failing to upgrade a read.
        w.guard.in_tx = true;
        sqlx::query("BEGIN IMMEDIATE").execute(w.conn()).await?;
        Ok(Tx {
            inner: TxInner::Writer(w),
        })
    }

    /// Takes SQLite's writer for a transaction begun and ended by hand, so that `BEGIN` and
    /// `COMMIT` share their trips to the worker thread with other statements: sqlx's SQLite
    /// driver runs every statement of one query string in one trip, binding `$n` to the n-th
    /// argument in each. The first string run on it must begin with `BEGIN IMMEDIATE`; after
    /// a string ending in `COMMIT` ran without error, call [`Tx::committed`]; on an error,
    /// [`Tx::rollback`] (or just drop it). SQLite only.
    pub async fn begin_by_hand(&self) -> Result<Tx, sqlx::Error> {
        let Some(writer) = &self.writer else {
            return Err(sqlx::Error::Configuration(
                "a transaction begun by hand is for SQLite".into(),
            ));
        };
        self.writes.fetch_add(1, Ordering::Relaxed);
        let mut w = WriterGuard {
            guard: lock_writer(writer).await?,
            writer: writer.clone(),
        };
        w.guard.in_tx = true;
        Ok(Tx {
            inner: TxInner::Writer(w),
        })
    }

    /// Whether the business date is behind the clock: the host was down at a cut-off time.
    /// A business date that is not a date is an error, not a "no".
    pub async fn cutoff_overdue(&self, clock: &CutoffClock) -> ApiResult<bool> {
        let current: String = sqlx::query("SELECT business_date FROM host_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await?
            .try_get("business_date")?;
        let current = Date::from_str(&current).map_err(ApiError::internal)?;
        Ok(current < clock.business_date_now())
    }

    /// The host's business date.
    pub async fn business_date(&self, conn: &mut AnyConnection) -> Result<String, sqlx::Error> {
        sqlx::query("SELECT business_date FROM host_state WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?
            .try_get("business_date")
    }

    /// The terminal's open batch, locked until the end of `tx` (on PostgreSQL).
    ///
    /// A cut-off or settlement may close the batch while we wait for its lock; PostgreSQL then
    /// finds no row (the re-checked `status` no longer matches) and the next statement sees the
    /// batch that replaced it, so we ask again.
    pub async fn open_batch(
        &self,
        tx: &mut AnyConnection,
        terminal_ref: i64,
    ) -> ApiResult<BatchRow> {
        let sql = format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE terminal_ref = $1 AND status = 'open'{}",
            self.for_update()
        );
        for _ in 0..5 {
            if let Some(row) = sqlx::query(&sql)
                .bind(terminal_ref)
                .fetch_optional(&mut *tx)
                .await?
            {
                return Ok(BatchRow::from_row(&row)?);
            }
        }
        // A terminal always has an open batch (made at `terminal add`, replaced in the same
        // transaction that closes it); a missing one is repaired rather than refused.
        let date = self.business_date(tx).await?;
        let last = sqlx::query(
            "SELECT batch_no FROM batches WHERE terminal_ref = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(terminal_ref)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| number_column(&r, "batch_no"))
        .transpose()?
        .map_or(1, next_number);
        self.insert_open_batch(tx, terminal_ref, last, &date).await
    }

    /// The terminal's open batch with its ledger lines, in one statement on a reader (one
    /// snapshot, no lock): for answers that change nothing.
    pub async fn open_batch_lines(
        &self,
        terminal_ref: i64,
    ) -> ApiResult<Option<(BatchRow, Vec<LedgerLine>)>> {
        let rows = sqlx::query(
            "SELECT b.id, b.batch_no, b.business_date, b.status, t.request_id, t.kind, \
             t.trace_no, t.amount, t.status AS tx_status FROM batches b \
             LEFT JOIN transactions t ON t.batch_id = b.id \
             WHERE b.terminal_ref = $1 AND b.status = 'open' ORDER BY t.id",
        )
        .bind(terminal_ref)
        .fetch_all(self.reader())
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let batch = BatchRow::from_row(first)?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in &rows {
            // A batch without transactions comes back as one row without a transaction.
            if row.try_get::<Option<String>, _>("request_id")?.is_some() {
                lines.push(ledger_line(row, "tx_status")?);
            }
        }
        Ok(Some((batch, lines)))
    }

    /// Opens batch `batch_no` for a terminal.
    pub async fn insert_open_batch(
        &self,
        tx: &mut AnyConnection,
        terminal_ref: i64,
        batch_no: u32,
        business_date: &str,
    ) -> ApiResult<BatchRow> {
        let row = sqlx::query(&format!(
            "INSERT INTO batches (terminal_ref, batch_no, business_date, status, opened_at) \
             VALUES ($1, $2, $3, 'open', $4) RETURNING {BATCH_COLUMNS}"
        ))
        .bind(terminal_ref)
        .bind(i64::from(batch_no))
        .bind(business_date)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        Ok(BatchRow::from_row(&row)?)
    }

    /// The newest batch of a terminal with this number, locked (on PostgreSQL).
    pub async fn batch_by_no(
        &self,
        tx: &mut Tx,
        terminal_ref: i64,
        batch_no: u32,
    ) -> ApiResult<Option<BatchRow>> {
        let row = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE terminal_ref = $1 AND batch_no = $2 \
             ORDER BY id DESC LIMIT 1{}",
            self.for_update()
        ))
        .bind(terminal_ref)
        .bind(i64::from(batch_no))
        .fetch_optional(&mut **tx)
        .await?;
        Ok(row.map(|r| BatchRow::from_row(&r)).transpose()?)
    }

    /// Batches of a terminal in one status, oldest first.
    pub async fn batches_in_status(
        &self,
        tx: &mut Tx,
        terminal_ref: i64,
        status: &str,
    ) -> ApiResult<Vec<BatchRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM batches WHERE terminal_ref = $1 AND status = $2 \
             ORDER BY id"
        ))
        .bind(terminal_ref)
        .bind(status)
        .fetch_all(&mut **tx)
        .await?;
        Ok(rows
            .iter()
            .map(BatchRow::from_row)
            .collect::<Result<_, _>>()?)
    }

    /// The host's ledger lines of one batch (R10): what `settlement::fold` and `compare` take.
    /// A transaction still being authorised counts nowhere yet.
    pub async fn ledger_lines(&self, tx: &mut Tx, batch_id: i64) -> ApiResult<Vec<LedgerLine>> {
        let rows = sqlx::query(
            "SELECT request_id, kind, trace_no, amount, status FROM transactions \
             WHERE batch_id = $1 ORDER BY id",
        )
        .bind(batch_id)
        .fetch_all(&mut **tx)
        .await?;
        let mut lines = Vec::with_capacity(rows.len());
        for row in rows {
            lines.push(ledger_line(&row, "status")?);
        }
        Ok(lines)
    }

    /// Whether a batch holds any transaction.
    pub async fn batch_has_transactions(&self, tx: &mut Tx, batch_id: i64) -> ApiResult<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM transactions WHERE batch_id = $1")
            .bind(batch_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get("n")?;
        Ok(n > 0)
    }

    /// `terminal add`: creates the merchant and terminal if absent (with batch 1 open) and
    /// issues a fresh activation code; older unused codes of the terminal stop working.
    pub async fn add_terminal(
        &self,
        merchant_id: &str,
        terminal_id: &str,
        currency: Currency,
    ) -> ApiResult<(String, String)> {
        check_merchant_id(merchant_id)?;
        if terminal_id.len() != 8 || !terminal_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ApiError::bad_request(
                "a terminal id is 8 letters or digits",
            ));
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        self.ensure_merchant(&mut tx, merchant_id).await?;
        let existing = sqlx::query(
            "SELECT id, currency FROM terminals WHERE merchant_id = $1 AND terminal_id = $2",
        )
        .bind(merchant_id)
        .bind(terminal_id)
        .fetch_optional(&mut *tx)
        .await?;
        let (terminal_ref, currency) = match existing {
            Some(row) => (row.try_get::<i64, _>("id")?, row.try_get("currency")?),
            None => {
                let id: i64 = sqlx::query(
                    "INSERT INTO terminals (merchant_id, terminal_id, currency, created_at) \
                     VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(merchant_id)
                .bind(terminal_id)
                .bind(currency.code())
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
                let date = self.business_date(&mut tx).await?;
                self.insert_open_batch(&mut tx, id, 1, &date).await?;
                (id, currency.code().to_owned())
            }
        };
        sqlx::query(
            "UPDATE activation_codes SET used_at = $1 WHERE terminal_ref = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(terminal_ref)
        .execute(&mut *tx)
        .await?;
        let code = secrets::activation_code()?;
        sqlx::query(
            "INSERT INTO activation_codes (code_hash, terminal_ref, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(secrets::sha256_hex(secrets::normalise_code(&code)))
        .bind(terminal_ref)
        .bind(now + ACTIVATION_VALID_MS)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((code, currency))
    }

    async fn ensure_merchant(&self, tx: &mut Tx, merchant_id: &str) -> ApiResult<()> {
        sqlx::query(
            "INSERT INTO merchants (merchant_id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(merchant_id)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
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
        if password.chars().count() < 4 {
            return Err(ApiError::bad_request(
                "a password has at least 4 characters",
            ));
        }
        let hash = secrets::hash_password(password).await?;
        let mut tx = self.begin().await?;
        self.ensure_merchant(&mut tx, merchant_id).await?;
        sqlx::query(
            "INSERT INTO operators (merchant_id, operator, password_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (merchant_id, operator) DO UPDATE \
             SET password_hash = excluded.password_hash",
        )
        .bind(merchant_id)
        .bind(operator)
        .bind(hash)
        .execute(&mut *tx)
        .await?;
        self.delete_locks(&mut tx, merchant_id, operator, None)
            .await?;
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
            let known =
                sqlx::query("SELECT id FROM terminals WHERE merchant_id = $1 AND terminal_id = $2")
                    .bind(merchant_id)
                    .bind(terminal_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if known.is_none() {
                return Err(ApiError::bad_request(format_args!(
                    "merchant {merchant_id} has no terminal {terminal_id}"
                )));
            }
        }
        let cleared = self
            .delete_locks(&mut tx, merchant_id, operator, terminal_id)
            .await?;
        tx.commit().await?;
        Ok(cleared)
    }

    async fn delete_locks(
        &self,
        tx: &mut Tx,
        merchant_id: &str,
        operator: &str,
        terminal_id: Option<&str>,
    ) -> ApiResult<u64> {
        Ok(sqlx::query(
            "DELETE FROM operator_locks WHERE operator = $1 AND terminal_ref IN \
             (SELECT id FROM terminals WHERE merchant_id = $2 \
              AND ($3 IS NULL OR terminal_id = $3))",
        )
        .bind(operator)
        .bind(merchant_id)
        .bind(terminal_id)
        .execute(&mut **tx)
        .await?
        .rows_affected())
    }

    /// R15 cut-off [日切]: closes every open batch that has transactions (`closed_by_host`,
    /// a new batch opens), ends every session, and moves the business date on.
    ///
    /// `scheduled`: run only when the business date has reached today's local date (a manual
    /// run earlier the same day already closed it). The `cutoffs` row for the closed date is
    /// inserted first and only the process whose insert lands does the work, so several hosts
    /// on one PostgreSQL close each day once. Sales lock their batch row, so none is booked into
    /// a batch while it is being closed.
    pub async fn cutoff(&self, clock: &CutoffClock, scheduled: bool) -> ApiResult<CutoffReport> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let current: String = sqlx::query(&format!(
            "SELECT business_date FROM host_state WHERE id = 1{}",
            self.for_update()
        ))
        .fetch_one(&mut *tx)
        .await?
        .try_get("business_date")?;
        let today = jiff::Timestamp::now().to_zoned(clock.tz.clone()).date();
        let current_date = Date::from_str(&current).map_err(ApiError::internal)?;
        if scheduled && current_date > today {
            tx.rollback().await?;
            return Ok(CutoffReport {
                closed_date: None,
                closed_batches: 0,
                business_date: current,
            });
        }
        let claimed = sqlx::query(
            "INSERT INTO cutoffs (business_date, ran_at, closed_batches) VALUES ($1, $2, 0) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&current)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            tx.rollback().await?;
            return Ok(CutoffReport {
                closed_date: None,
                closed_batches: 0,
                business_date: current,
            });
        }
        // The day after the one closed, or later when the host missed cut-offs while down.
        let next = current_date
            .tomorrow()
            .map_err(ApiError::internal)?
            .max(clock.business_date_now());
        let next = next.to_string();
        // Set-based, not a statement per batch: 10 000 open batches close in two statements
        // plus one insert per 500 new batches. On PostgreSQL the UPDATE waits for any sale
        // holding a batch's lock and then closes the batch with that sale in it; its
        // re-checked `status = 'open'` leaves a batch settled meanwhile as it is.
        let closed_rows = sqlx::query(
            "UPDATE batches SET status = 'closed_by_host', closed_at = $1 \
             WHERE status = 'open' \
             AND EXISTS (SELECT 1 FROM transactions t WHERE t.batch_id = batches.id) \
             RETURNING terminal_ref, batch_no",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut successors = Vec::with_capacity(closed_rows.len());
        for row in &closed_rows {
            let terminal_ref: i64 = row.try_get("terminal_ref")?;
            successors.push((terminal_ref, next_number(number_column(row, "batch_no")?)));
        }
        // Each terminal whose batch closed gets the next one, open on the new date. The
        // numbers come from the database as integers, so writing them into the statement is
        // safe; 500 rows keep it far below either database's limit on statement size.
        for chunk in successors.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO batches (terminal_ref, batch_no, business_date, status, opened_at) \
                 VALUES ",
            );
            for (i, (terminal_ref, batch_no)) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("({terminal_ref}, {batch_no}, $1, 'open', $2)"));
            }
            // Built fresh per cut-off: not worth a slot in the prepared-statement cache.
            sqlx::query(&sql)
                .persistent(false)
                .bind(&next)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        let closed = u64::try_from(successors.len()).unwrap_or(u64::MAX);
        // Batches left open (no transactions) belong to the new day; the ones just opened
        // already do.
        sqlx::query(
            "UPDATE batches SET business_date = $1 WHERE status = 'open' AND business_date <> $1",
        )
        .bind(&next)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, ended_by = 'cutoff' WHERE ended_at IS NULL",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE cutoffs SET closed_batches = $1 WHERE business_date = $2")
            .bind(i64::try_from(closed).unwrap_or(i64::MAX))
            .bind(&current)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE host_state SET business_date = $1 WHERE id = 1")
            .bind(&next)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(CutoffReport {
            closed_date: Some(current),
            closed_batches: closed,
            business_date: next,
        })
    }
}

fn check_operator_id(operator: &str) -> ApiResult<()> {
    if operator.len() == 2 && operator.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "an operator is two digits, 01..99, or 00 for the supervisor",
        ))
    }
}

/// A value in the database no rule writes: the row is bad, and reading it is an error.
pub fn bad_row(column: &str, value: &str) -> ApiError {
    ApiError::internal(format_args!("bad row: {column} is {value:?}"))
}

fn check_merchant_id(merchant_id: &str) -> ApiResult<()> {
    if merchant_id.len() == 15 && merchant_id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::bad_request("a merchant id is 15 digits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn sqlite_store(dir: &std::path::Path) -> Store {
        let url = format!("sqlite://{}", dir.join("host.db").display());
        Store::open(&url, &CutoffClock::default_clock())
            .await
            .unwrap()
    }

    /// Merchants visible to a new write transaction, which `BEGIN IMMEDIATE` could not start
    /// on a connection still inside another.
    async fn merchants(store: &Store) -> i64 {
        let mut tx = store.begin().await.unwrap();
        let n = sqlx::query("SELECT COUNT(*) AS n FROM merchants")
            .fetch_one(&mut *tx)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        tx.commit().await.unwrap();
        n
    }

    #[tokio::test]
    async fn test_writer_dropped_inside_its_transaction_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(dir.path()).await;
        let mut tx = store.begin_by_hand().await.unwrap();
        sqlx::query(
            "BEGIN IMMEDIATE; \
             INSERT INTO merchants (merchant_id, created_at) VALUES ('111111111111111', 1)",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        // As when a request's task is cancelled between the two trips of a sale.
        drop(tx);
        assert_eq!(merchants(&store).await, 0);
        store.close().await;
    }

    #[tokio::test]
    async fn test_writer_rolled_back_after_a_failed_statement_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(dir.path()).await;
        let mut tx = store.begin_by_hand().await.unwrap();
        let twice = sqlx::query(
            "BEGIN IMMEDIATE; \
             INSERT INTO merchants (merchant_id, created_at) VALUES ('111111111111111', 1); \
             INSERT INTO merchants (merchant_id, created_at) VALUES ('111111111111111', 1); \
             COMMIT",
        )
        .execute(&mut *tx)
        .await;
        assert!(twice.is_err(), "the second insert breaks the primary key");
        tx.rollback().await.unwrap();
        assert_eq!(merchants(&store).await, 0, "COMMIT never ran");
        store.close().await;
    }

    #[tokio::test]
    async fn test_writer_marked_in_a_transaction_that_never_began_reconnects() {
        let dir = tempfile::tempdir().unwrap();
        let store = sqlite_store(dir.path()).await;
        // Dropped before its first string ran: the ROLLBACK finds no transaction and fails,
        // so the writer is replaced by a fresh connection.
        drop(store.begin_by_hand().await.unwrap());
        let mut tx = store.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO merchants (merchant_id, created_at) VALUES ('111111111111111', 1)",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(merchants(&store).await, 1);
        store.close().await;
    }
}
