//! The host settles each batch with the acquirer and keeps its verdict; an operator the
//! acquirer does not sign in gets no session.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::tests_acquirer::{body, void_of, with_supervisor, Recording};
use super::*;
use crate::acquirer::{
    Acquirer, AcquirerOutcome, AcquirerSimulator, Answer as Upstream, AnswerFuture, Request,
};
use softpos::ids::RequestId;
use softpos::protocol::{SettlementRequest, SignInRequest};
use sqlx::Row;
use std::sync::Arc;

async fn acquirer_outcome(store: &Store) -> Option<String> {
    sqlx::query("SELECT acquirer_outcome FROM batches WHERE batch_no = 1")
        .fetch_one(store.reader())
        .await
        .unwrap()
        .try_get("acquirer_outcome")
        .unwrap()
}

async fn settle(store: &Store, s: &Session, acquirer: Arc<dyn Acquirer>) -> serde_json::Value {
    let b = store.current_batch(s).await.unwrap();
    let req = SettlementRequest {
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        batch_no: b.batch_no,
        terminal_totals: b.host_totals,
    };
    let answer = body(&store.settle(s, &req, &acquirer).await.unwrap());
    // A retry is given the same answer (R9), the verdict in it.
    assert_eq!(
        body(&store.settle(s, &req, &acquirer).await.unwrap()),
        answer
    );
    answer
}

#[tokio::test]
async fn r11_the_host_settles_each_batch_with_the_acquirer_and_keeps_its_verdict() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let simulator: Arc<dyn Acquirer> = Arc::new(AcquirerSimulator::default());
        store
            .transaction(&s, sale(1, CARD), simulator.as_ref())
            .await
            .unwrap();
        assert_eq!(acquirer_outcome(&store).await, None);
        let answer = settle(&store, &s, simulator).await;
        assert_eq!(answer["outcome"], "balanced", "{answer}");
        assert_eq!(answer["acquirer_outcome"], "balanced", "{answer}");
        assert_eq!(acquirer_outcome(&store).await.as_deref(), Some("balanced"));
        drop_pg(store, drop).await;
    }
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let acquirer = Recording::settling(None, AcquirerOutcome::Unbalanced);
        for trace in 1..=9 {
            store
                .transaction(&s, sale(trace, CARD), acquirer.as_ref())
                .await
                .unwrap();
        }
        store
            .transaction(&s, void_of(10, 9), acquirer.as_ref())
            .await
            .unwrap();
        // The terminal's settlement with the host stands: its totals are the host's.
        let answer = settle(&store, &s, acquirer.clone()).await;
        assert_eq!(answer["outcome"], "balanced", "{answer}");
        // The acquirer's record differs: shown, and the terminal's settlement still stands.
        assert_eq!(answer["acquirer_outcome"], "unbalanced", "{answer}");
        assert_eq!(
            acquirer_outcome(&store).await.as_deref(),
            Some("unbalanced")
        );
        let asked = acquirer.asked();
        let Some(Request::Settlement(settlement)) = asked.get(10) else {
            panic!("{asked:?}")
        };
        assert_eq!(
            (settlement.debit.count, settlement.debit.amount),
            (8, 8 * 1250)
        );
        assert_eq!((settlement.credit.count, settlement.credit.amount), (0, 0));
        let uploads: Vec<_> = asked[11..]
            .iter()
            .map(|r| match r {
                Request::BatchUpload(u) => (u.records.len(), u.closing),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(uploads, [(8, false), (2, false), (0, true)]);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r16_an_operator_the_acquirer_does_not_sign_in_gets_no_session() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        store
            .add_operator(MERCHANT, "01", "operator-pw".into())
            .await
            .unwrap();
        let req = SignInRequest {
            operator: "01".into(),
            password: "operator-pw".into(),
        };
        let simulator = AcquirerSimulator::default();
        assert!(store.sign_in(&s.terminal, &req, &simulator).await.is_ok());
        /// Refuses every sign-in.
        struct Refusing;
        impl Acquirer for Refusing {
            fn ask(&self, _: Request) -> AnswerFuture<'_> {
                Box::pin(async { Upstream::Unknown })
            }
        }
        let refused = store
            .sign_in(&s.terminal, &req, &Refusing)
            .await
            .unwrap_err();
        assert_eq!(refused.code, ErrorCode::HostUnreachable);
        drop_pg(store, drop).await;
    }
}
