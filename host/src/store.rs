//! The host's storage as the rules see it: the [`Db`] with the host's settings (the bound on
//! password checks, the fingerprint key, the merchants' time zone), and the business day's
//! clock. The rules are in `ledger`, their SQL in `db`.

use crate::db::{Db, Tx};
use crate::error::{ApiError, ApiResult};
use crate::forward::Forwarding;
use crate::ledger::Known;
use crate::secrets::{FingerprintKey, PasswordChecks};
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use std::sync::Arc;
use std::time::Duration;

/// The host's storage.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    /// The bound on Argon2 checks at once (R16).
    password_checks: Arc<PasswordChecks>,
    /// The key of the card's part of idempotency fingerprints (R9).
    fingerprint_key: Arc<FingerprintKey>,
    /// The merchants' time zone (`--timezone`), told to terminals at sign-in.
    tz: TimeZone,
    /// The data key and retry wait of the messages owed to the acquirer.
    forwarding: Forwarding,
    /// What sales learned for the next ones (PostgreSQL's sale in one trip).
    known: Arc<Known>,
}

impl Store {
    /// Opens (and on SQLite creates) the database and brings its schema up to date.
    pub async fn open(url: &str, clock: &CutoffClock) -> Result<Store, String> {
        let db = Db::open(url, &clock.business_date_now().to_string()).await?;
        let store = Store {
            db,
            password_checks: Arc::default(),
            // Loaded below, before the store is returned.
            fingerprint_key: Arc::new(FingerprintKey::unset()),
            tz: clock.tz.clone(),
            forwarding: Forwarding::default(),
            known: Arc::default(),
        };
        let key = store
            .stored_fingerprint_key()
            .await
            .map_err(|e| format!("cannot initialise the database: {}", e.message))?;
        Ok(store.with_fingerprint_key(key))
    }

    /// The fingerprint key kept in the database, made on first start.
    async fn stored_fingerprint_key(&self) -> ApiResult<FingerprintKey> {
        let mut tx = self.begin().await?;
        let hex = tx.fingerprint_key(&FingerprintKey::generate_hex()?).await?;
        tx.commit().await?;
        FingerprintKey::from_hex(&hex).map_err(ApiError::internal)
    }

    /// The merchants' wall clock now: the zone's IANA name and its offset from UTC in minutes
    /// (it changes with daylight saving, so it is asked each time).
    pub fn wall_clock(&self) -> (Option<String>, i32) {
        let offset = self.tz.to_offset(jiff::Timestamp::now()).seconds() / 60;
        (self.tz.iana_name().map(str::to_owned), offset)
    }

    /// The merchants' time zone (`--timezone`).
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
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

    /// The same store with these settings for the messages owed to the acquirer.
    pub fn with_forwarding(mut self, forwarding: Forwarding) -> Store {
        self.forwarding = forwarding;
        self
    }

    /// The settings of the messages owed to the acquirer.
    pub fn forwarding(&self) -> &Forwarding {
        &self.forwarding
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

    /// What sales learned for the next ones.
    pub(crate) fn known(&self) -> &Known {
        &self.known
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The pool for reads outside a transaction.
    #[cfg(test)]
    pub fn reader(&self) -> &sqlx::AnyPool {
        self.db.reader()
    }

    /// Closes every connection (SQLite checkpoints its WAL into the file).
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// Write transactions begun since the store opened.
    #[cfg(test)]
    pub fn writes_begun(&self) -> u64 {
        self.db.writes_begun()
    }

    /// Begins a transaction that will write.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.db.begin().await
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
