//! R8 upstream, the terminal's own reversal of what the acquirer approved and the host
//! answered (the answer lost on the way to the browser): its reversal waits on standby with the
//! sale's card sealed (R4), goes upstream once when the terminal reverses, and is gone, card
//! and all, once the terminal moves on to its next operation.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::tests_acquirer::{body, void_of, with_supervisor};
use super::tests_forward::{
    approved, ask, forward_all, jobs, jobs_where, keyed, JobView, Scripted,
};
use super::tests_forward_restart::reopen;
use super::*;
use crate::acquirer::{Acquirer, IsoAcquirer, LinkMode, Request};
use crate::peer_process::Peer;
use softpos::protocol::{ReversalRequest, SettlementRequest, SignInRequest, TransactionRequest};
use std::sync::Arc;

/// The reversals kept on standby.
async fn standby(store: &Store) -> Vec<JobView> {
    jobs_where(store, "next_at = $1").await
}

fn reversal_of(req: &TransactionRequest) -> ReversalRequest {
    ReversalRequest {
        request_id: req.request_id.clone(),
    }
}

/// The terminal settles its open batch with the host's totals.
fn settlement_of(b: &softpos::protocol::CurrentBatchResponse) -> SettlementRequest {
    SettlementRequest {
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        batch_no: b.batch_no,
        terminal_totals: b.host_totals.clone(),
    }
}

#[tokio::test]
async fn r8_upstream_a_terminal_reversal_of_an_approved_sale_goes_upstream_once_with_its_card() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([]);
        let req = sale(1, CARD);
        assert_eq!(ask(&store, &s, &acquirer, req.clone()).await, approved());
        // On standby, its card sealed: owed to no one, sent by no one.
        let kept = standby(&store).await;
        assert_eq!(kept.len(), 1, "{kept:?}");
        let (kind, reason, request, card, _) = &kept[0];
        assert_eq!((kind.as_str(), reason.as_deref()), ("reversal", Some("06")));
        assert!(request.contains("411111******1111") && !request.contains(CARD));
        assert!(card.as_deref().is_some_and(|c| !c.contains(CARD)));
        assert!(jobs(&store).await.is_empty(), "nothing owed yet");
        assert_eq!(store.forward_due(acquirer.as_ref()).await.unwrap(), 0);
        // R9: the retry of the sale is its stored answer, and keeps no second one.
        assert_eq!(ask(&store, &s, &acquirer, req.clone()).await, approved());
        assert_eq!(standby(&store).await.len(), 1);
        assert_eq!(acquirer.log(), ["sale 1"]);

        // The answer was lost: the terminal reverses it, and retries its reversal.
        assert!(
            store
                .reversal(&s, &reversal_of(&req))
                .await
                .unwrap()
                .reversed
        );
        assert!(
            store
                .reversal(&s, &reversal_of(&req))
                .await
                .unwrap()
                .reversed
        );
        assert!(standby(&store).await.is_empty());
        let owed = jobs(&store).await;
        assert_eq!(owed.len(), 1, "due now, once: {owed:?}");
        forward_all(&store, acquirer.clone()).await;
        assert_eq!(acquirer.log(), ["sale 1", "reversal 06 of sale 1"]);
        let Request::Reversal(rev) = &acquirer.asked()[1] else {
            panic!()
        };
        let Request::Sale(original) = rev.original.as_ref() else {
            panic!()
        };
        assert_eq!(original.pan.digits(), CARD, "the card opened for the 0400");
        assert_eq!(original.expiry.to_mm_yy(), "12/39");
        assert_eq!(original.trace.get(), 1);
        assert!(standby(&store).await.is_empty() && jobs(&store).await.is_empty());
        let b = store.current_batch(&s).await.unwrap();
        assert_eq!(b.host_totals.sale.count, 0, "out of the host's totals too");
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r4_r8_upstream_an_approved_sales_card_is_gone_after_the_terminals_next_operation() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let keyless = store.clone();
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([]);
        ask(&store, &s, &acquirer, sale(1, CARD)).await;
        assert!(standby(&store).await[0].2.contains("\"trace\":1"));
        // The next sale: the first one's standby and card are gone, the new one's kept.
        ask(&store, &s, &acquirer, sale(2, CARD)).await;
        let kept = standby(&store).await;
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].2.contains("\"trace\":2"), "{kept:?}");
        // The settlement: none left.
        let b = store.current_batch(&s).await.unwrap();
        let settling: Arc<dyn Acquirer> = acquirer.clone();
        store
            .settle(&s, &settlement_of(&b), &settling)
            .await
            .unwrap();
        assert!(standby(&store).await.is_empty());
        forward_all(&store, acquirer.clone()).await;
        let log = acquirer.log();
        assert_eq!(log[..2], ["sale 1", "sale 2"], "{log:?}");
        assert!(!log.iter().any(|l| l.starts_with("reversal")), "{log:?}");
        // Without a data key (the simulator's case) none is kept at all.
        ask(&keyless, &s, &acquirer, sale(1, CARD)).await;
        assert!(standby(&store).await.is_empty());
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r6_r8_upstream_a_terminal_reversal_of_an_approved_void_goes_upstream_as_its_0400() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([]);
        ask(&store, &s, &acquirer, sale(1, CARD)).await;
        let void = void_of(2, 1);
        assert_eq!(ask(&store, &s, &acquirer, void.clone()).await, approved());
        let kept = standby(&store).await;
        assert!(
            kept.len() == 1 && kept[0].2.contains("\"op\":\"void\""),
            "{kept:?}"
        );
        assert!(
            store
                .reversal(&s, &reversal_of(&void))
                .await
                .unwrap()
                .reversed
        );
        forward_all(&store, acquirer.clone()).await;
        assert_eq!(
            acquirer.log(),
            ["sale 1", "void 2", "reversal 06 of void 2"]
        );
        // The sale counts again, on both sides.
        let b = store.current_batch(&s).await.unwrap();
        assert_eq!((b.host_totals.sale.count, b.host_totals.void.count), (1, 0));
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r8_upstream_a_restarted_host_sends_the_terminals_reversal_of_an_approved_sale() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        // One acquirer throughout (it numbers its RRNs on).
        let acquirer = Scripted::new([]);
        let req = sale(1, CARD);
        ask(&store, &s, &acquirer, req.clone()).await;
        let store = reopen(store, dir.path(), drop.as_deref()).await;
        assert!(
            store
                .reversal(&s, &reversal_of(&req))
                .await
                .unwrap()
                .reversed
        );
        // The terminal's next sale sends it first.
        assert_eq!(ask(&store, &s, &acquirer, sale(2, CARD)).await, approved());
        assert_eq!(
            acquirer.log(),
            ["sale 1", "reversal 06 of sale 1", "sale 2"]
        );
        let Request::Reversal(rev) = &acquirer.asked()[1] else {
            panic!()
        };
        let Request::Sale(original) = rev.original.as_ref() else {
            panic!()
        };
        assert_eq!(original.pan.digits(), CARD, "opened after the restart");
        drop_pg(store, drop).await;
    }
}

/// Operator 01 signed in, with the acquirer too: the session token.
pub(super) async fn signed_in(store: &Store, s: &Session, acquirer: &dyn Acquirer) -> String {
    store
        .add_operator(MERCHANT, "01", "operator-pw".into())
        .await
        .unwrap();
    let sign_in = SignInRequest {
        operator: "01".into(),
        password: "operator-pw".into(),
    };
    store
        .sign_in(&s.terminal, &sign_in, acquirer)
        .await
        .unwrap()
        .session_token
}

#[tokio::test]
async fn r8_r11_upstream_a_sale_the_terminal_reversed_after_approval_leaves_the_acquirers_books_too(
) {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        // A peer each: the two databases' terminals would share its books.
        let peer = Peer::start(&[]);
        let acquirer: Arc<dyn Acquirer> =
            Arc::new(IsoAcquirer::new(peer.config(), LinkMode::PerRequest));
        let store = keyed(store, dir.path());
        signed_in(&store, &s, acquirer.as_ref()).await;
        let first = body(
            &store
                .transaction(&s, sale(1, CARD), acquirer.as_ref())
                .await
                .unwrap(),
        );
        assert_eq!(first["status"], "approved", "{first}");
        let lost = sale(2, CARD);
        let second = body(
            &store
                .transaction(&s, lost.clone(), acquirer.as_ref())
                .await
                .unwrap(),
        );
        assert_eq!(second["status"], "approved", "{second}");
        assert!(
            store
                .reversal(&s, &reversal_of(&lost))
                .await
                .unwrap()
                .reversed
        );
        // The settlement sends the terminal's owed reversal first; the books agree.
        let b = store.current_batch(&s).await.unwrap();
        let answer = body(
            &store
                .settle(&s, &settlement_of(&b), &acquirer)
                .await
                .unwrap(),
        );
        assert_eq!(answer["acquirer_outcome"], "balanced", "{answer}");
        let reversals: Vec<serde_json::Value> = peer
            .requests()
            .into_iter()
            .filter(|(mti, _)| mti == "0400")
            .map(|(_, f)| f)
            .collect();
        assert_eq!(reversals.len(), 1, "{reversals:?}");
        let f = &reversals[0];
        assert_eq!(
            (&f["2"], &f["11"], &f["39"]),
            (&"411111******1111".into(), &"000002".into(), &"06".into()),
            "{f}"
        );
        drop_pg(store, drop).await;
    }
}
