//! The write transaction, and SQLite's one writer connection behind it, with its group commit
//! (docs/architecture.md, "Group commit").

use super::Dialect;
use sqlx::{Any, AnyConnection, Connection, Transaction};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{oneshot, Mutex, OwnedMutexGuard};

/// Most units one commit carries: a unit that would make the group bigger commits it itself,
/// so no answer waits behind an unbounded line.
const GROUP_MAX: usize = 64;

/// What a unit waiting for its group's commit is told: committed, or why not.
type GroupResult = Result<(), String>;

/// A write transaction. On PostgreSQL sqlx's own, on a pooled connection. On SQLite a unit of
/// work on the host's one writer connection: begun and ended by hand, and committed with the
/// units of other requests that were waiting for the writer meanwhile (group commit, one
/// fsync for all of them). Its `commit` returns only once its unit is durable. No pool stands
/// between a request and the writer, because lending out and taking back a pooled SQLite
/// connection costs trips to its worker thread (sqlx pings every connection given back) on
/// the path every sale waits for.
///
/// Dereferences to the connection, for the statements of the transaction.
#[derive(Debug)]
pub struct Tx {
    inner: TxInner,
    /// Begun by hand and no statement run yet: what the first one must begin with
    /// ([`Tx::begin_prefix`]), else nothing.
    unbegun: &'static str,
    /// Begun and ended by hand (SQLite): `COMMIT` may share a trip with other statements.
    fused: bool,
}

#[derive(Debug)]
enum TxInner {
    Pooled(Transaction<'static, Any>),
    Writer(WriterGuard),
}

/// SQLite's writer behind its lock, and how many requests wait for that lock.
#[derive(Debug, Clone)]
pub(super) struct WriterLock {
    mutex: Arc<Mutex<Writer>>,
    /// Requests waiting for the writer: while any does, a unit leaves its transaction open
    /// for them to join instead of committing alone.
    queued: Arc<AtomicUsize>,
}

impl WriterLock {
    pub(super) fn new(writer: Writer) -> WriterLock {
        WriterLock {
            mutex: Arc::new(Mutex::new(writer)),
            queued: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// SQLite's writer connection. sqlx does not know about the transactions begun on it by
/// hand, so it would never roll one back: `in_tx` says a unit may be open, and whoever takes
/// the writer next undoes it first ([`lock_writer`]).
#[derive(Debug)]
pub(super) struct Writer {
    /// `None` only after [`Db::close`](super::Db::close).
    pub(super) conn: Option<AnyConnection>,
    /// A unit may be open: set before it begins, cleared once it ended (committed, kept for
    /// its group, or rolled back).
    pub(super) in_tx: bool,
    /// To open a fresh connection when a `ROLLBACK` fails.
    pub(super) url: String,
    /// The open group: units done but not yet committed, each holder waiting for the commit.
    /// Not empty exactly when a transaction stays open between holders of the writer.
    group: Vec<oneshot::Sender<GroupResult>>,
    /// A task waits for the writer to commit the open group ([`commit_group`]).
    committer: bool,
    /// Commits made, for the tests to count.
    commits: u64,
}

impl Writer {
    pub(super) fn new(conn: AnyConnection, url: String) -> Writer {
        Writer {
            conn: Some(conn),
            in_tx: false,
            url,
            group: Vec::new(),
            committer: false,
            commits: 0,
        }
    }

    /// Runs one string on the connection.
    async fn run(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        match self.conn.as_mut() {
            Some(conn) => sqlx::query(sql).execute(conn).await.map(drop),
            None => Err(sqlx::Error::PoolClosed),
        }
    }

    /// Commits the open group, if any, and tells its units.
    pub(super) async fn commit_group(&mut self) {
        if self.group.is_empty() {
            return;
        }
        match self.run("COMMIT").await {
            Ok(()) => self.group_committed(),
            Err(e) => {
                self.fail_group(&e.to_string());
                // Whatever is left is rolled back now, or by the next holder.
                self.in_tx = true;
                self.clean().await.ok();
            }
        }
    }

    /// Undoes a unit a previous holder left open: its savepoint when it had joined a group,
    /// else its transaction. A `ROLLBACK` that fails (no transaction was open after all, its
    /// `BEGIN` having failed, or the connection is broken) is answered with a fresh
    /// connection: closing the old one rolls back whatever it still had open. A group that
    /// cannot be kept is failed, and its units told.
    async fn clean(&mut self) -> Result<(), sqlx::Error> {
        if self.conn.is_none() {
            self.fail_group("the database is closed");
            return Err(sqlx::Error::PoolClosed);
        }
        if !self.in_tx {
            return Ok(());
        }
        if !self.group.is_empty() {
            if self.run("ROLLBACK TO unit; RELEASE unit").await.is_ok() {
                self.in_tx = false;
                return Ok(());
            }
            // No savepoint: the unit never ran its first string (and so wrote nothing), or
            // the whole transaction is gone (SQLite rolls back on some errors). `BEGIN` tells:
            // it fails inside a transaction.
            if self.run("BEGIN").await.is_err() {
                self.in_tx = false;
                return Ok(());
            }
            self.fail_group("a failed write could not be undone alone");
        }
        if self.run("ROLLBACK").await.is_err() {
            // Still marked, so the next holder tries again if this fails.
            let fresh = connect_writer(&self.url).await?;
            if let Some(old) = self.conn.replace(fresh) {
                old.close().await.ok();
            }
        }
        self.in_tx = false;
        Ok(())
    }

    /// The open group's `COMMIT` ran: its units are durable.
    fn group_committed(&mut self) {
        self.commits += 1;
        fault_after_group_commit(self.group.len());
        for unit in self.group.drain(..) {
            unit.send(Ok(())).ok();
        }
    }

    /// The open group is lost (its `COMMIT` failed, or a unit could not be undone alone): its
    /// units are told, and answer an error, so their terminals reverse them (R8).
    fn fail_group(&mut self, why: &str) {
        if !self.group.is_empty() {
            tracing::warn!(
                units = self.group.len(),
                error = why,
                "a group commit failed"
            );
        }
        for unit in self.group.drain(..) {
            unit.send(Err(why.to_owned())).ok();
        }
    }
}

/// How a writer unit ends, decided when its last statement is written ([`Tx::end_sql`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Not decided yet.
    Open,
    /// Its statements end with `COMMIT`: durable once they ran, with the group before it.
    Commit,
    /// Left in the open transaction for the group's committer.
    Kept,
}

/// The writer, held by one unit.
#[derive(Debug)]
struct WriterGuard {
    guard: OwnedMutexGuard<Writer>,
    lock: WriterLock,
    /// Joined an open group: runs inside savepoint `unit` (so it fails alone).
    joined: bool,
    ending: Ending,
}

impl WriterGuard {
    fn conn(&mut self) -> &mut AnyConnection {
        // `lock_writer` hands out the writer only with its connection.
        self.guard
            .conn
            .as_mut()
            .expect("a locked writer has its connection")
    }

    /// The statements that end this unit as done, in the order they must run; decides whether
    /// it commits now or stays for the group. Alone, with nobody waiting for the writer, it
    /// commits as a transaction always did; while others wait, it stays open for them.
    fn end_sql(&mut self) -> &'static str {
        let waiting = self.lock.queued.load(Ordering::Acquire) > 0;
        let (sql, ending) = match (self.joined, waiting) {
            (false, false) => ("COMMIT", Ending::Commit),
            (false, true) => ("", Ending::Kept),
            (true, _) if self.guard.group.len() + 1 >= GROUP_MAX => {
                ("RELEASE unit; COMMIT", Ending::Commit)
            }
            (true, _) => ("RELEASE unit", Ending::Kept),
        };
        self.ending = ending;
        sql
    }

    /// The unit's end statements ran: it is committed, or it waits for its group's commit.
    async fn finish(mut self) -> Result<(), sqlx::Error> {
        self.guard.in_tx = false;
        match self.ending {
            Ending::Commit => {
                self.guard.group_committed();
                Ok(())
            }
            Ending::Open | Ending::Kept => wait_for_group(self).await,
        }
    }

    /// Undoes this unit only: the whole transaction when it began it, its savepoint when it
    /// joined a group (the units before it stay). Then waits for the group like any unit: what
    /// it answers may rest on what they wrote.
    async fn rollback(mut self) -> Result<(), sqlx::Error> {
        if !self.joined {
            sqlx::query("ROLLBACK").execute(self.conn()).await?;
            self.guard.in_tx = false;
            return Ok(());
        }
        sqlx::query("ROLLBACK TO unit; RELEASE unit")
            .execute(self.conn())
            .await?;
        self.guard.in_tx = false;
        wait_for_group(self).await.ok();
        Ok(())
    }
}

/// Puts a unit's holder in the open group, frees the writer for the next unit and waits for
/// the group's commit.
async fn wait_for_group(mut w: WriterGuard) -> Result<(), sqlx::Error> {
    // Alone and committed already (a leader that rolled back has no group to wait for).
    if w.guard.group.is_empty() && w.ending != Ending::Kept {
        return Ok(());
    }
    let (told, told_rx) = oneshot::channel();
    w.guard.group.push(told);
    drop(w); // queues the committer
    match told_rx.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(sqlx::Error::Protocol(format!(
            "the write was not committed: {why}"
        ))),
        Err(_) => Err(sqlx::Error::Protocol(
            "the write's commit was never reported".into(),
        )),
    }
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        // A group left open, or a unit cancelled, refused or failed inside its transaction:
        // a task queues for the writer to finish them (`lock_writer` undoes the unit, then
        // the group is committed), so SQLite's write lock is not held until the next request
        // (another process, a `cutoff` run, may be waiting for it), and no answer waits for a
        // request that may never come.
        let w = &mut *self.guard;
        if (w.in_tx || !w.group.is_empty()) && !w.committer {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                w.committer = true;
                rt.spawn(commit_group(self.lock.clone()));
            }
        }
    }
}

/// Takes the writer when its turn comes, and commits the group open on it.
async fn commit_group(lock: WriterLock) {
    let mut w = take_writer(&lock).await;
    w.committer = false;
    match w.clean().await {
        Ok(()) => w.commit_group().await,
        Err(e) => tracing::warn!(error = %e, "cannot finish the writer's transaction"),
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
            unbegun: "",
            fused: false,
        }
    }

    /// A unit on SQLite's writer. With no group open it begins a transaction: at once with
    /// `BEGIN IMMEDIATE` (`by_hand` false), or with the first statement run on it. With a
    /// group open it joins it, in savepoint `unit` (so it fails alone).
    pub(super) async fn writer(lock: &WriterLock, by_hand: bool) -> Result<Tx, sqlx::Error> {
        let mut w = WriterGuard {
            guard: lock_writer(lock).await?,
            lock: lock.clone(),
            joined: false,
            ending: Ending::Open,
        };
        w.joined = !w.guard.group.is_empty();
        // `IMMEDIATE` takes the writer lock up front instead of failing to upgrade a read.
        let first = if w.joined {
            "SAVEPOINT unit; "
        } else {
            "BEGIN IMMEDIATE; "
        };
        if !by_hand {
            sqlx::query(first.trim_end_matches("; "))
                .execute(w.conn())
                .await?;
        }
        // Only now: a transaction begun by hand that never ran its first string is rolled
        // back, which fails and replaces the connection (as a broken one is); a unit of a
        // group that never did is found without its savepoint ([`Writer::clean`]).
        w.guard.in_tx = true;
        Ok(Tx {
            inner: TxInner::Writer(w),
            unbegun: if by_hand { first } else { "" },
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

    /// `"BEGIN IMMEDIATE; "` (or `"SAVEPOINT unit; "` in a group) for the first statement of
    /// a transaction begun by hand, else nothing: the caller puts it in front of that
    /// statement, so both take one trip.
    pub fn begin_prefix(&mut self) -> &'static str {
        std::mem::take(&mut self.unbegun)
    }

    /// On a transaction begun by hand: the statements that end it, to run last in its final
    /// string (`COMMIT`, or what leaves it for its group; possibly nothing). After that string
    /// ran, [`Tx::committed`].
    pub fn end_sql(&mut self) -> &'static str {
        match &mut self.inner {
            TxInner::Writer(w) => w.end_sql(),
            TxInner::Pooled(_) => "",
        }
    }

    /// `" FOR UPDATE"` on PostgreSQL, nothing on SQLite (whose writer lock covers it).
    pub fn lock(&self) -> &'static str {
        match self.dialect() {
            Dialect::Postgres => " FOR UPDATE",
            Dialect::Sqlite => "",
        }
    }

    /// Commits: returns once what this transaction wrote is durable.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pooled(tx) => tx.commit().await,
            TxInner::Writer(mut w) => {
                let sql = w.end_sql();
                if !sql.is_empty() {
                    sqlx::query(sql).execute(w.conn()).await?;
                }
                w.finish().await
            }
        }
    }

    /// Rolls back what this transaction wrote (on SQLite, only its own unit).
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Pooled(tx) => tx.rollback().await,
            TxInner::Writer(w) => w.rollback().await,
        }
    }

    /// A transaction from [`Db::begin_by_hand`](super::Db::begin_by_hand) ran its last string,
    /// ending in [`Tx::end_sql`], without error: returns once what it wrote is durable.
    pub async fn committed(self) -> Result<(), sqlx::Error> {
        match self.inner {
            TxInner::Writer(w) => w.finish().await,
            TxInner::Pooled(_) => Ok(()),
        }
    }
}

/// Counts a request waiting for the writer while it waits, even when its task is cancelled.
struct Queued<'a>(&'a AtomicUsize);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Takes SQLite's writer when its turn comes, first undoing a unit a previous holder left open
/// ([`Writer::clean`]).
pub(super) async fn lock_writer(lock: &WriterLock) -> Result<OwnedMutexGuard<Writer>, sqlx::Error> {
    let mut guard = take_writer(lock).await;
    guard.clean().await?;
    Ok(guard)
}

/// Waits for the writer, counted in `queued` meanwhile.
async fn take_writer(lock: &WriterLock) -> OwnedMutexGuard<Writer> {
    lock.queued.fetch_add(1, Ordering::AcqRel);
    let _queued = Queued(&lock.queued);
    lock.mutex.clone().lock_owned().await
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

/// Fault injection for the fault suite, in debug builds only: with
/// `SOFTPOS_FAULT_GROUP_EXIT_FILE` naming a file, the first group commit of two units or more
/// after that file appears removes it and ends the process before any of them is answered.
fn fault_after_group_commit(units: usize) {
    #[cfg(debug_assertions)]
    if let (true, Some(path)) = (
        units >= 2,
        std::env::var_os("SOFTPOS_FAULT_GROUP_EXIT_FILE"),
    ) {
        if std::fs::remove_file(path).is_ok() {
            eprintln!("fault: exiting after a group commit of {units} units");
            std::process::exit(70);
        }
    }
    let _ = units;
}

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
