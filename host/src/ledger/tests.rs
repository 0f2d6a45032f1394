use super::*;
use crate::acquirer::AcquirerSimulator;
use crate::store::CutoffClock;
use softpos::protocol::CardData;
use softpos::protocol::{ReversalRequest, TransactionRequest, TxKind};
use softpos::ErrorCode;
use sqlx::Row;
use std::time::Duration;

pub(super) const MERCHANT: &str = "898310048160001";
pub(super) const CARD: &str = "4111111111111111";
const HELD_BACK: &str = "4000000000003220";

/// A fresh store on SQLite, and on PostgreSQL when `SOFTPOS_TEST_DATABASE_URL` is set (a
/// database of its own, dropped at the end), with one signed-in terminal.
pub(super) async fn stores(dir: &std::path::Path) -> Vec<(Store, Session, Option<String>)> {
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
                None,
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
                lane: false,
            },
            operator: "01".into(),
            token_hash: "unused".into(),
            ended: false,
        };
        out.push((store, session, drop));
    }
    out
}

pub(super) async fn drop_pg(store: Store, drop: Option<String>) {
    store.close().await;
    if let Some((admin, name)) = drop.as_deref().and_then(|d| d.split_once('|')) {
        use sqlx::{Connection, Executor};
        let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
        conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
    }
}

pub(super) fn sale(trace_no: u32, pan: &str) -> TransactionRequest {
    TransactionRequest {
        request_id: softpos::ids::RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        kind: TxKind::Sale,
        trace_no: softpos::ids::TraceNo::try_from(trace_no).unwrap(),
        amount: 1250,
        currency: "CNY".into(),
        card: Some(CardData {
            pan: pan.into(),
            expiry: "12/39".into(),
        }),
        original: None,
        supervisor_password: None,
        reference: None,
    }
}

#[tokio::test]
async fn r5_r9_a_sale_the_issuer_decides_at_once_is_one_write_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let issuer = AcquirerSimulator::default();
    for (store, s, drop) in stores(dir.path()).await {
        for (trace, pan, status) in [(1, CARD, "approved"), (2, "4000000000000002", "declined")] {
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
    let issuer = std::sync::Arc::new(AcquirerSimulator {
        slow_card_delay: Duration::from_millis(1500),
    });
    for (store, s, drop) in stores(dir.path()).await {
        let req = sale(1, HELD_BACK);
        let before = store.writes_begun();
        let pending = {
            let (store, s, req, issuer) = (store.clone(), s.clone(), req.clone(), issuer.clone());
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
    let issuer = AcquirerSimulator::default();
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
    let issuer = AcquirerSimulator::default();
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
