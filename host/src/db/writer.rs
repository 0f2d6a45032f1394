//! The write transaction, and SQLite's one writer connection behind it.

use super::Dialect;
use sqlx::{Any, AnyConnection, Connection, Transaction};
use std::sync::Arc;
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
    /// Begun by hand and no statement run yet: the first one must begin with
    /// `BEGIN IMMEDIATE` ([`Tx::begin_prefix`]).
    unbegun: bool,
    /// Begun and ended by hand (SQLite): `COMMIT` may share a trip with other statements.
    fused: bool,
}

#[derive(Debug)]
enum TxInner {
    Pooled(Transaction<'static, Any>),
    Writer(WriterGuard),
}

/// SQLite's writer connection. sqlx does not know about the transactions begun on it by
/// hand, so it would never roll one back: `in_tx` says one may be open, and whoever takes the
/// writer next rolls it back first ([`lock_writer`]).
#[derive(Debug)]
pub(super) struct Writer {
    /// `None` only after [`Db::close`](super::Db::close).
    pub(super) conn: Option<AnyConnection>,
    /// A transaction may be open: set before `BEGIN`, cleared once `COMMIT` or `ROLLBACK` ran.
    pub(super) in_tx: bool,
    /// To open a fresh connection when a `ROLLBACK` fails.
    pub(super) url: String,
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
    /// A transaction on a pooled connection (PostgreSQL).
    pub(super) fn pooled(tx: Transaction<'static, Any>) -> Tx {
        Tx {
            inner: TxInner::Pooled(tx),
            unbegun: false,
            fused: false,
        }
    }

    /// SQLite's writer, marked as inside a transaction: begun already with `BEGIN IMMEDIATE`
    /// (`by_hand` false), or to be begun by the first statement run on it.
    pub(super) async fn writer(
        writer: &Arc<Mutex<Writer>>,
        by_hand: bool,
    ) -> Result<Tx, sqlx::Error> {
        let mut w = WriterGuard {
            guard: lock_writer(writer).await?,
            writer: writer.clone(),
        };
        w.guard.in_tx = true;
        if !by_hand {
            // `IMMEDIATE` takes the writer lock up front instead of failing to upgrade a read.
            sqlx::query("BEGIN IMMEDIATE").execute(w.conn()).await?;
        }
        Ok(Tx {
            inner: TxInner::Writer(w),
            unbegun: by_hand,
            fused: by_hand,
        })
    }

    /// The database this transaction runs on.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            TxInner::Pooled(_) => Dialect::Postgres,
            TxInner::Writer(_) => Dialect::Sqlite,
        }
    }

    /// Whether statements may share a trip with `COMMIT` ([`Db::begin_fused`] on SQLite).
    ///
    /// [`Db::begin_fused`]: super::Db::begin_fused
    pub fn by_hand(&self) -> bool {
        self.fused
    }

    /// `"BEGIN IMMEDIATE; "` for the first statement of a transaction begun by hand, else
    /// nothing: the caller puts it in front of that statement, so both take one trip.
    pub fn begin_prefix(&mut self) -> &'static str {
        if std::mem::take(&mut self.unbegun) {
            "BEGIN IMMEDIATE; "
        } else {
            ""
        }
    }

    /// `" FOR UPDATE"` on PostgreSQL, nothing on SQLite (whose writer lock covers it).
    pub fn lock(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

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

    /// A transaction from [`Db::begin_by_hand`](super::Db::begin_by_hand) ran a string ending in `COMMIT` without
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
pub(super) async fn lock_writer(
    writer: &Arc<Mutex<Writer>>,
) -> Result<OwnedMutexGuard<Writer>, sqlx::Error> {
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
pub(super) async fn connect_writer(url: &str) -> Result<AnyConnection, sqlx::Error> {
    let mut conn = AnyConnection::connect(url).await?;
    for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA busy_timeout = 10000"] {
        sqlx::query(pragma).execute(&mut conn).await?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use sqlx::Row;

    async fn sqlite_store(dir: &std::path::Path) -> Db {
        let url = format!("sqlite://{}", dir.join("host.db").display());
        Db::open(&url, "2026-01-01").await.unwrap()
    }

    /// Merchants visible to a new write transaction, which `BEGIN IMMEDIATE` could not start
    /// on a connection still inside another.
    async fn merchants(store: &Db) -> i64 {
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
