//! All of the host's SQL, under the rules of `ledger`: one `AnyPool` over SQLite or PostgreSQL,
//! picked by the URL's scheme.
//!
//! Most statements are written once with `$n` placeholders (both drivers take them) and column
//! types both share (BIGINT/INTEGER, TEXT), in the module of the table they are about. What
//! differs between the two databases sits behind one interface, [`Tx`] and [`Dialect`], with
//! one module per database (`sqlite`, `postgres`): how the store connects and migrates, the row
//! lock (`FOR UPDATE` on PostgreSQL only: SQLite has one writer at a time, and the host starts
//! every SQLite write transaction with `BEGIN IMMEDIATE` so it takes that writer lock up front
//! instead of failing to upgrade), how the next transaction id is drawn, and how a sale the
//! issuer decided at once is checked and booked in as few trips as each database allows.

mod answers;
mod batches;
mod checkout;
mod columns;
mod console;
mod console_charts;
mod cutoff;
mod fresh;
mod holds;
mod jobs;
mod merchant;
mod one_trip;
mod outbox;
mod owed_settlements;
mod postgres;
mod sales;
mod sessions;
mod sqlite;
mod terminals;
mod transactions;
mod upload_chunks;
mod writer;

pub use answers::stored_answer;
pub use answers::StoredAnswer;
pub use batches::Settlement;
pub use checkout::CheckoutRow;
pub use columns::{
    bad_row, number_column, BatchRow, BatchState, Scope, SessionEnd, TxRow, TxState,
};
pub use console::{settled_status, ConsoleTerminalRow, NewestSession, SettledBatchRow};
pub use fresh::{Checked, Fresh};
pub use jobs::{due_jobs, terminal_jobs, JobRow, NewJob, STANDBY};
pub use merchant::PaymentRow;
pub use one_trip::OneTrip;
pub use outbox::{due_events, DueEvent, NewEvent};
pub use owed_settlements::{owed_settlements, AcquirerState, OwedBatch};
pub use sales::SaleRow;
pub use sessions::SessionRow;
pub use terminals::{TerminalRef, TerminalRow};
pub use transactions::NewTransaction;
pub use writer::Tx;

use sqlx::{AnyPool, Connection};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use writer::WriterLock;

/// Which database a [`Db`] or a [`Tx`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// One process, one writer connection.
    Sqlite,
    /// Many processes, a pool each, row locks.
    Postgres,
}

/// The database.
#[derive(Clone, Debug)]
pub struct Db {
    /// PostgreSQL: every connection. SQLite: the readers, for reads outside a transaction
    /// (sessions, keys, stored answers); WAL lets them read while the writer commits, so
    /// checking a session never queues behind a sale.
    pool: AnyPool,
    /// The lookup every request starts with, of its session or terminal key. SQLite: two
    /// connections of its own, so a flood of other reads (a dashboard polling batches) never
    /// queues a sale's session check behind it. PostgreSQL: the same pool.
    credentials: AnyPool,
    /// SQLite: the one connection that writes. SQLite has a single writer anyway, and one
    /// connection never waits on itself.
    writer: Option<WriterLock>,
    /// Write transactions begun, so a test can see how many a request took.
    writes: Arc<AtomicU64>,
}

impl Db {
    /// Opens (and on SQLite creates) the database, brings its schema up to date and makes
    /// the host's one `host_state` row.
    pub async fn open(url: &str, business_date: &str) -> Result<Db, String> {
        sqlx::any::install_default_drivers();
        let (pool, credentials, writer) =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                let pool = postgres::open(url).await?;
                (pool.clone(), pool, None)
            } else if url.starts_with("sqlite:") {
                let (pool, credentials, writer) = sqlite::open(url).await?;
                (pool, credentials, Some(WriterLock::new(writer)))
            } else {
                return Err(format!(
                    "--db {url:?}: use sqlite://FILE or postgres://USER:PASSWORD@HOST/DB"
                ));
            };
        let db = Db {
            pool,
            credentials,
            writer,
            writes: Arc::new(AtomicU64::new(0)),
        };
        let init = async {
            let mut tx = db.begin().await?;
            tx.init_host_state(business_date).await?;
            tx.commit().await
        };
        init.await
            .map_err(|e: sqlx::Error| format!("cannot initialise the database: {e}"))?;
        Ok(db)
    }

    /// The pool for reads outside a transaction.
    pub fn reader(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn dialect(&self) -> Dialect {
        if self.writer.is_some() {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }

    /// Closes every connection (SQLite checkpoints its WAL into the file).
    pub async fn close(&self) {
        self.pool.close().await;
        self.credentials.close().await;
        if let Some(writer) = &self.writer {
            if let Ok(mut w) = writer::lock_writer(writer).await {
                // Units waiting for their group's commit get it before the connection goes.
                w.commit_group().await;
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

    /// Begins a transaction that will write.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.writes.fetch_add(1, Ordering::Relaxed);
        match &self.writer {
            None => Ok(Tx::pooled(self.pool.begin().await?)),
            Some(writer) => Tx::writer(writer, false).await,
        }
    }

    /// Takes SQLite's writer for a transaction begun and ended by hand, so that `BEGIN` and
    /// `COMMIT` share their trips to the worker thread with other statements: sqlx's SQLite
    /// driver runs every statement of one query string in one trip, binding `$n` to the n-th
    /// argument in each. The first string run on it must begin with `BEGIN IMMEDIATE`
    /// ([`Tx::begin_prefix`]); after a string ending in [`Tx::end_sql`] ran without error, call
    /// [`Tx::committed`]; on an error, [`Tx::rollback`] (or just drop it). SQLite only.
    pub async fn begin_by_hand(&self) -> Result<Tx, sqlx::Error> {
        let Some(writer) = &self.writer else {
            return Err(sqlx::Error::Configuration(
                "a transaction begun by hand is for SQLite".into(),
            ));
        };
        self.writes.fetch_add(1, Ordering::Relaxed);
        Tx::writer(writer, true).await
    }

    /// A transaction whose statements may share trips with its `BEGIN` and `COMMIT`: begun by
    /// hand on SQLite, an ordinary one on PostgreSQL (whose driver takes one statement a
    /// trip anyway).
    pub async fn begin_fused(&self) -> Result<Tx, sqlx::Error> {
        match self.dialect() {
            Dialect::Sqlite => self.begin_by_hand().await,
            Dialect::Postgres => self.begin().await,
        }
    }
}
