//! SQLite's writer: units undone alone, and the group commit (docs/architecture.md).

use crate::db::Db;
use sqlx::Row;
use std::time::Duration;

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
    sqlx::query("INSERT INTO merchants (merchant_id, created_at) VALUES ('111111111111111', 1)")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(merchants(&store).await, 1);
    store.close().await;
}

/// Commits the writer made so far.
async fn commits(store: &Db) -> u64 {
    let lock = store.writer.as_ref().expect("an SQLite store has a writer");
    lock.mutex.lock().await.commits
}

/// Inserts merchant `n` in a unit of its own; `Ok` once `commit` returned, when the row must
/// be visible to a reader on another connection.
async fn insert_merchant(store: Db, n: u64) -> Result<(), String> {
    let id = format!("{:015}", 100_000_000_000_000 + n);
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    let inserted = sqlx::query("INSERT INTO merchants (merchant_id, created_at) VALUES ($1, 1)")
        .bind(&id)
        .execute(&mut *tx)
        .await;
    if let Err(e) = inserted {
        tx.rollback().await.map_err(|e| e.to_string())?;
        return Err(e.to_string());
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    let seen: i64 = sqlx::query("SELECT COUNT(*) AS n FROM merchants WHERE merchant_id = $1")
        .bind(&id)
        .fetch_one(&store.pool)
        .await
        .map_err(|e| e.to_string())?
        .try_get("n")
        .map_err(|e| e.to_string())?;
    assert_eq!(
        seen, 1,
        "merchant {n}: commit returned before its row was durable"
    );
    Ok(())
}

/// Returns once `n` requests wait for the writer.
async fn until_queued(store: &Db, n: usize) {
    let lock = store.writer.as_ref().expect("an SQLite store has a writer");
    while lock.queued.load(std::sync::atomic::Ordering::Acquire) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Holds the writer while `n` units queue for it, so they find each other when it goes.
async fn queue_behind_a_holder(store: &Db, units: Vec<u64>) -> Vec<Result<(), String>> {
    let holder = store.begin().await.unwrap();
    let tasks: Vec<_> = units
        .into_iter()
        .map(|n| tokio::spawn(insert_merchant(store.clone(), n)))
        .collect();
    until_queued(store, tasks.len()).await;
    holder.commit().await.unwrap();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn test_group_commit_units_waiting_for_the_writer_share_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path()).await;
    let before = commits(&store).await;
    let results = queue_behind_a_holder(&store, (1..=6).collect()).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(merchants(&store).await, 6);
    // The holder's and the six units' writes in one commit (plus the count's own).
    assert_eq!(commits(&store).await - before, 2);
    store.close().await;
}

#[tokio::test]
async fn test_group_commit_a_failing_unit_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path()).await;
    // Merchant 3 twice: the second insert breaks the primary key.
    let results = queue_behind_a_holder(&store, vec![1, 2, 3, 3, 4, 5]).await;
    assert_eq!(
        results.iter().filter(|r| r.is_err()).count(),
        1,
        "{results:?}"
    );
    assert_eq!(merchants(&store).await, 5);
    store.close().await;
}

/// A group of merchant 1, then `odd` (a unit that ends without committing), then merchant 2,
/// queued behind a holder; the merchants the store keeps afterwards.
async fn group_around<F>(odd: impl FnOnce(Db) -> F) -> i64
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path()).await;
    let holder = store.begin().await.unwrap();
    let before = tokio::spawn(insert_merchant(store.clone(), 1));
    let odd = tokio::spawn(odd(store.clone()));
    until_queued(&store, 2).await;
    let after = tokio::spawn(insert_merchant(store.clone(), 2));
    holder.commit().await.unwrap();
    odd.await.unwrap();
    before.await.unwrap().unwrap();
    after.await.unwrap().unwrap();
    let kept = merchants(&store).await;
    store.close().await;
    kept
}

#[tokio::test]
async fn test_group_commit_a_unit_cancelled_inside_the_group_is_undone_alone() {
    let kept = group_around(|store| async move {
        let mut tx = store.begin().await.unwrap();
        sqlx::query(
            "INSERT INTO merchants (merchant_id, created_at) VALUES ('199999999999999', 1)",
        )
        .execute(&mut *tx)
        .await
        .unwrap();
        // Cancelled here, as a request whose client went away.
        drop(tx);
    })
    .await;
    assert_eq!(kept, 2, "merchants 1 and 2, not the cancelled one");
}

#[tokio::test]
async fn test_group_commit_a_unit_begun_by_hand_dropped_before_its_first_string_costs_nothing() {
    // Joins the group with `SAVEPOINT unit; ` still to send, and never sends it.
    let kept =
        group_around(|store| async move { drop(store.begin_by_hand().await.unwrap()) }).await;
    assert_eq!(kept, 2, "the group kept merchant 1");
}

#[tokio::test]
async fn test_group_commit_takes_at_most_group_max_units() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path()).await;
    let before = commits(&store).await;
    // The holder and 64 units: one past the cap, so a group of 64 and then the last unit
    // on its own.
    let results = queue_behind_a_holder(&store, (1..=64).collect()).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(merchants(&store).await, 64);
    assert_eq!(
        commits(&store).await - before,
        3,
        "two commits and the count's own"
    );
    store.close().await;
}

/// Runs `sql` in a unit of its own; `Ok` once its `commit` returned.
async fn unit(store: Db, sql: &'static str) -> Result<(), String> {
    let mut tx = store.begin().await.map_err(|e| e.to_string())?;
    if let Err(e) = sqlx::query(sql).execute(&mut *tx).await {
        tx.rollback().await.map_err(|e| e.to_string())?;
        return Err(e.to_string());
    }
    tx.commit().await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn test_group_commit_a_failed_commit_fails_every_unit_of_its_group_and_keeps_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path()).await;
    // A key checked only at COMMIT: each unit's statement succeeds, the group's COMMIT fails.
    unit(
        store.clone(),
        "CREATE TABLE parents (id INTEGER PRIMARY KEY); \
         CREATE TABLE children (parent INTEGER \
           REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)",
    )
    .await
    .unwrap();
    let holder = store.begin().await.unwrap();
    let units = [
        "INSERT INTO parents (id) VALUES (1)",
        "INSERT INTO children (parent) VALUES (2)",
        "INSERT INTO parents (id) VALUES (3)",
    ];
    let tasks: Vec<_> = units
        .into_iter()
        .map(|sql| tokio::spawn(unit(store.clone(), sql)))
        .collect();
    until_queued(&store, tasks.len()).await;
    holder.commit().await.unwrap_err();
    for task in tasks {
        let told = tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("every unit is told its group's fate")
            .unwrap();
        assert!(told.is_err(), "the group's COMMIT failed: {told:?}");
    }
    let kept: i64 = sqlx::query("SELECT COUNT(*) AS n FROM parents")
        .fetch_one(&store.pool)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(kept, 0, "nothing of the failed group is kept");
    // The writer is clean for the next unit.
    unit(store.clone(), "INSERT INTO parents (id) VALUES (4)")
        .await
        .unwrap();
    store.close().await;
}
