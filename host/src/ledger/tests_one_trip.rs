//! PostgreSQL's sale in one trip (`one_trip.rs`): what it books is what the long way would
//! have booked, and anything that changed since the token's last sale sends it the long way.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::tests_standby::signed_in;
use super::*;
use crate::acquirer::AcquirerSimulator;
use crate::db::Dialect;
use softpos::protocol::SignOffRequest;
use sqlx::{Connection, Executor, Row};
use std::time::Duration;

/// The stores on PostgreSQL (the SQLite ones closed), each with operator 01 signed in and one
/// sale made the long way, which teaches the next one: the session token and its hash.
async fn taught(
    dir: &std::path::Path,
    issuer: &AcquirerSimulator,
) -> Vec<(Store, Session, Option<String>, String, String)> {
    let mut out = Vec::new();
    for (store, s, drop) in stores(dir).await {
        if store.db().dialect() == Dialect::Sqlite {
            drop_pg(store, drop).await;
            continue;
        }
        let token = signed_in(&store, &s, issuer).await;
        store
            .sale_by_token(&token, sale(1, CARD), issuer)
            .await
            .unwrap();
        let hash = secrets::sha256_hex(&token);
        out.push((store, s, drop, token, hash));
    }
    out
}

/// The sales of the terminal's open batch on the host: count and amount.
async fn host_sales(store: &Store, token: &str) -> (u64, i64) {
    let s = store.session(token, false).await.unwrap();
    let b = store.current_batch(&s).await.unwrap();
    (b.host_totals.sale.count, b.host_totals.sale.amount)
}

#[tokio::test]
async fn r5_r9_a_sessions_second_sale_is_booked_in_one_trip_and_its_retry_gets_the_same_answer() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = AcquirerSimulator::default();
    for (store, s, drop) in stores(dir.path()).await {
        let token = signed_in(&store, &s, &issuer).await;
        let hash = secrets::sha256_hex(&token);
        let second = sale(2, CARD);
        if store.db().dialect() == Dialect::Sqlite {
            // SQLite keeps its two trips: its writer groups sales anyway.
            assert!(!store.one_trip_applies(&second));
            drop_pg(store, drop).await;
            continue;
        }
        // Nothing learned yet: the first sale goes the long way, and teaches the second.
        let first = sale(1, CARD);
        assert!(store
            .sale_in_one_trip(&hash, &first, &issuer)
            .await
            .unwrap()
            .is_none());
        store.sale_by_token(&token, first, &issuer).await.unwrap();
        let booked = store
            .sale_in_one_trip(&hash, &second, &issuer)
            .await
            .unwrap()
            .expect("booked in one trip");
        let body: serde_json::Value = serde_json::from_str(&booked.body).unwrap();
        assert_eq!(body["status"], "approved", "{body}");
        // R9: the retry finds it booked, goes the long way and gets the stored answer.
        let again = store.sale_by_token(&token, second, &issuer).await.unwrap();
        assert_eq!(booked, again);
        // A decline is booked in one trip too, and counts nowhere.
        let declined = store
            .sale_by_token(&token, sale(3, "4000000000000002"), &issuer)
            .await
            .unwrap();
        assert!(declined.body.contains("\"declined\""), "{}", declined.body);
        assert_eq!(host_sales(&store, &token).await, (2, 2500));
        drop_pg(store, drop).await;
    }
}

/// How many statements of this database wait for a lock, once one does (or after 5 s).
async fn lock_waits(conn: &mut sqlx::PgConnection) -> i64 {
    let mut waits = 0;
    for _ in 0..200 {
        waits = sqlx::query(
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .get::<i64, _>("n");
        if waits > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    waits
}

#[tokio::test]
async fn r8_a_reversal_committed_while_a_one_trip_sale_waited_for_the_batch_lock_keeps_it_out() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = AcquirerSimulator::default();
    for (store, s, drop, token, hash) in taught(dir.path(), &issuer).await {
        let late = sale(2, CARD);
        // Another connection holds the batch's lock, as a reversal does, and tombstones the
        // sale's request id (R8) before it lets go.
        let url = drop.as_deref().unwrap().split_once('|').unwrap();
        let url = format!("{}/{}", url.0.rsplit_once('/').unwrap().0, url.1);
        let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
        holder.execute("BEGIN").await.unwrap();
        sqlx::query("SELECT id FROM batches WHERE status = 'open' FOR UPDATE")
            .fetch_one(&mut holder)
            .await
            .unwrap();
        let waiting = {
            let (store, hash, late) = (store.clone(), hash.clone(), late.clone());
            tokio::spawn(async move {
                let issuer = AcquirerSimulator::default();
                store.sale_in_one_trip(&hash, &late, &issuer).await
            })
        };
        // The sale's statement is waiting for the lock before the tombstone is committed.
        let waits = lock_waits(&mut holder).await;
        assert_eq!(waits, 1, "the one-trip sale waits for the batch lock");
        sqlx::query(
            "INSERT INTO reversals (merchant_id, terminal_ref, request_id, reversed, at) \
             VALUES ($1, $2, $3, 0, 0)",
        )
        .bind(MERCHANT)
        .bind(s.terminal.terminal_ref)
        .bind(late.request_id.as_str())
        .execute(&mut holder)
        .await
        .unwrap();
        holder.execute("COMMIT").await.unwrap();
        assert!(
            waiting.await.unwrap().unwrap().is_none(),
            "the tombstone committed meanwhile is seen: nothing booked"
        );
        let refused = store
            .sale_by_token(&token, late, &issuer)
            .await
            .unwrap_err();
        assert_eq!(refused.status, 409, "{refused:?}");
        assert_eq!(host_sales(&store, &token).await, (1, 1250));
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r14_r15_a_signed_off_session_or_a_settled_batch_sends_the_next_sale_the_long_way() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = AcquirerSimulator::default();
    for (store, _, drop, token, hash) in taught(dir.path(), &issuer).await {
        // The batch closes behind the host's back (as a second host process's settlement
        // would): the one trip books nothing, the long way books into the next batch.
        sqlx::query("UPDATE batches SET status = 'closed_by_host' WHERE status = 'open'")
            .execute(store.reader())
            .await
            .unwrap();
        let next = sale(1, CARD);
        assert!(store
            .sale_in_one_trip(&hash, &next, &issuer)
            .await
            .unwrap()
            .is_none());
        store.sale_by_token(&token, next, &issuer).await.unwrap();
        assert_eq!(host_sales(&store, &token).await, (1, 1250));
        // Signed off (on this process or another): refused, as the long way refuses it.
        let session = store.session(&token, false).await.unwrap();
        let off = SignOffRequest {
            request_id: Some(
                softpos::ids::RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
            ),
            settle: None,
        };
        store.sign_off(&session, &off, &issuer).await.unwrap();
        let after = sale(2, CARD);
        assert!(store
            .sale_in_one_trip(&hash, &after, &issuer)
            .await
            .unwrap()
            .is_none());
        let refused = store
            .sale_by_token(&token, after, &issuer)
            .await
            .unwrap_err();
        assert_eq!(refused.code, softpos::ErrorCode::SessionExpired);
        drop_pg(store, drop).await;
    }
}
