//! R23: the merchant's webhook events are written by the ledger in the transaction of the
//! change they report, whichever way the acquirer's answer came (at once, or later while
//! nothing is locked), and only for what the shop must hear of: none for a decline, none for
//! what a reversal overtook, none for a merchant without a webhook.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::tests_acquirer::{
    body, overtaken, refund_of, void_of, with_supervisor, Recording, Told,
};
use super::*;
use sqlx::Row;
use std::time::Duration;

/// The events kept: type and transaction, oldest first, with each body's payment.
async fn events(store: &Store) -> Vec<(String, i64, serde_json::Value)> {
    sqlx::query("SELECT type, transaction_id, body FROM webhook_events ORDER BY id")
        .fetch_all(store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let body: serde_json::Value =
                serde_json::from_str(&r.get::<String, _>("body")).unwrap();
            (
                r.get("type"),
                r.get("transaction_id"),
                body["data"]["payment"].clone(),
            )
        })
        .collect()
}

async fn tx_id(store: &Store, rrn: &str) -> i64 {
    sqlx::query("SELECT id FROM transactions WHERE rrn = $1")
        .bind(rrn)
        .fetch_one(store.reader())
        .await
        .unwrap()
        .get("id")
}

#[tokio::test]
async fn r23_events_are_written_with_the_answer_at_once_or_later() {
    let dir = tempfile::tempdir().unwrap();
    for delay in [None, Some(Duration::from_millis(20))] {
        let dir = dir.path().join(format!("{delay:?}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (store, s, drop) in stores(&dir).await {
            with_supervisor(&store).await;
            let acquirer = Recording::new(delay);
            let ask = |req| store.transaction(&s, req, acquirer.as_ref());
            ask(sale(1, CARD)).await.unwrap();
            assert!(events(&store).await.is_empty(), "no webhook, no event");

            store
                .set_webhook(MERCHANT, "https://shop.example/hook")
                .await
                .unwrap();
            let first = body(&ask(sale(2, CARD)).await.unwrap());
            let second = body(&ask(sale(3, CARD)).await.unwrap());
            acquirer.tell(Told::Decline("05"));
            ask(sale(4, CARD)).await.unwrap();
            acquirer.tell(Told::Unknown);
            ask(sale(5, CARD)).await.unwrap();
            acquirer.tell(Told::Approve);
            let void = body(&ask(void_of(6, 2)).await.unwrap());
            let rrn = second["rrn"].as_str().unwrap();
            let refund = body(&ask(refund_of(7, rrn, 500)).await.unwrap());

            let first_id = tx_id(&store, first["rrn"].as_str().unwrap()).await;
            let second_id = tx_id(&store, rrn).await;
            let kept = events(&store).await;
            let got: Vec<(&str, i64)> = kept.iter().map(|(t, id, _)| (t.as_str(), *id)).collect();
            assert_eq!(
                got,
                [
                    ("payment.approved", first_id),
                    ("payment.approved", second_id),
                    (
                        "payment.voided",
                        tx_id(&store, void["rrn"].as_str().unwrap()).await
                    ),
                    (
                        "payment.refunded",
                        tx_id(&store, refund["rrn"].as_str().unwrap()).await
                    ),
                ],
                "{delay:?}"
            );
            // Each shows the sale as it stood then, booked when its row was.
            let booked: i64 = sqlx::query("SELECT created_at FROM transactions WHERE id = $1")
                .bind(first_id)
                .fetch_one(store.reader())
                .await
                .unwrap()
                .get("created_at");
            let at = softpos::terminal::time::Timestamp(booked).rfc3339();
            assert_eq!(kept[0].2["host_time"], at.as_str());
            assert_eq!(kept[0].2["voided"], false);
            assert_eq!(kept[2].2["voided"], true);
            assert_eq!(kept[2].2["rrn"], first["rrn"]);
            assert_eq!(kept[3].2["refunded_amount"], 500);
            assert_eq!(kept[3].2["rrn"], second["rrn"]);
            drop_pg(store, drop).await;
        }
    }
}

#[tokio::test]
async fn r23_r8_what_a_reversal_overtook_makes_no_event() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        store
            .set_webhook(MERCHANT, "http://127.0.0.1:9/hook")
            .await
            .unwrap();
        let acquirer = Recording::new(Some(Duration::from_millis(1200)));
        store
            .transaction(&s, sale(1, CARD), acquirer.as_ref())
            .await
            .unwrap();
        overtaken(&store, &s, &acquirer, void_of(2, 1)).await;
        // The reversal owed upstream for the void goes first, as before the terminal's next.
        assert_eq!(store.forward_due(acquirer.as_ref()).await.unwrap(), 1);
        overtaken(&store, &s, &acquirer, sale(3, CARD)).await;
        let kept = events(&store).await;
        let types: Vec<&str> = kept.iter().map(|(t, _, _)| t.as_str()).collect();
        assert_eq!(types, ["payment.approved"], "the first sale's only");
        drop_pg(store, drop).await;
    }
}
