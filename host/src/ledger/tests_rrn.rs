//! R7 with an acquirer's RRNs: an acquirer promises an RRN unique only for a while, so a second
//! approval that carries an RRN the merchant already has is booked, and a refund by that RRN
//! names the newest approved sale (migration 0013).

use super::tests::{drop_pg, sale, stores, CARD};
use super::tests_acquirer::with_supervisor;
use super::tests_forward::{approved, ask, keyed, refund_of, Scripted};
use sqlx::Row;

/// Each sale's RRN and what was refunded of it, by trace number.
async fn sales(store: &crate::store::Store) -> Vec<(i64, String, i64)> {
    sqlx::query(
        "SELECT trace_no, rrn, refunded_amount FROM transactions WHERE kind = 'sale' \
         ORDER BY trace_no",
    )
    .fetch_all(store.reader())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("trace_no").unwrap(),
            r.try_get("rrn").unwrap(),
            r.try_get("refunded_amount").unwrap(),
        )
    })
    .collect()
}

#[tokio::test]
async fn r7_an_rrn_the_acquirer_gives_again_is_booked_and_a_refund_names_the_newest_sale() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let store = keyed(store, dir.path());
        // Two acquirers' counters from the same start: the second gives the first's RRN again,
        // as an acquirer whose counter restarted does.
        let before = Scripted::new([]);
        assert_eq!(ask(&store, &s, &before, sale(1, CARD)).await, approved());
        let after = Scripted::new([]);
        assert_eq!(ask(&store, &s, &after, sale(2, CARD)).await, approved());
        let rrn = "700000000001";
        assert_eq!(
            sales(&store).await,
            [(1, rrn.to_owned(), 0), (2, rrn.to_owned(), 0)],
            "both booked under the RRN the acquirer gave"
        );
        assert_eq!(
            ask(&store, &s, &after, refund_of(3, rrn, 500)).await,
            approved()
        );
        assert_eq!(
            sales(&store).await,
            [(1, rrn.to_owned(), 0), (2, rrn.to_owned(), 500)],
            "the newest sale with that RRN"
        );
        drop_pg(store, drop).await;
    }
}
