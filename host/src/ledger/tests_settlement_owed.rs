//! R11, the second level never dropped: a batch the acquirer did not answer at settlement is
//! owed, the terminal's answer says `pending`, and the background task settles it later (after
//! the terminal's reversals, across a restart), writing the verdict into the answers kept.

use super::tests::{drop_pg, sale, stores, CARD};
use super::tests_acquirer::{body, Recording};
use super::tests_forward::{approved, ask, declined_98, keyed, Scripted};
use super::tests_forward_restart::reopen;
use super::*;
use crate::acquirer::{
    Acquirer, AcquirerOutcome, Answer as Upstream, IsoAcquirer, LinkMode, Request,
};
use crate::forward::{forwarder, Forwarding};
use crate::peer_process::Peer;
use softpos::ids::{BatchNo, RequestId};
use softpos::protocol::{SettlementRequest, UploadRequest};
use sqlx::Row;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The batch's verdict as kept, whether it is still owed, and its tries without an answer.
async fn kept(store: &Store) -> (Option<String>, bool, i64) {
    let row = sqlx::query(
        "SELECT acquirer_outcome, acquirer_due_at, acquirer_tries FROM batches WHERE batch_no = 1",
    )
    .fetch_one(store.reader())
    .await
    .unwrap();
    (
        row.get("acquirer_outcome"),
        row.get::<Option<i64>, _>("acquirer_due_at").is_some(),
        row.get("acquirer_tries"),
    )
}

/// Runs the background task until the batch's verdict is kept (at most 10 s).
async fn settle_in_background(store: &Store, acquirer: Arc<dyn Acquirer>) {
    let task = tokio::spawn(forwarder(store.clone(), acquirer));
    for _ in 0..500 {
        if kept(store).await.0.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
}

fn request_id() -> RequestId {
    RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap()
}

/// The settlement of batch 1 with the host's totals, `extra` more sales on the terminal's side.
async fn settlement(store: &Store, s: &Session, extra: u64) -> SettlementRequest {
    let mut totals = store.current_batch(s).await.unwrap().host_totals;
    let more = i64::try_from(extra).unwrap() * 1250;
    totals.sale.count += extra;
    totals.sale.amount += more;
    totals.net_amount += more;
    SettlementRequest {
        request_id: request_id(),
        batch_no: BatchNo::FIRST,
        terminal_totals: totals,
    }
}

fn settled_balanced() -> Upstream {
    Upstream::Answered {
        code: "00".into(),
        rrn: None,
        auth_code: None,
        settlement_date: Some("1205".into()),
        batch: None,
        outcome: Some(AcquirerOutcome::Balanced),
    }
}

#[tokio::test]
async fn r11_r8_an_acquirer_down_at_settlement_is_pending_then_settled_in_the_background_after_the_reversal(
) {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let up = Scripted::new([]);
        assert_eq!(ask(&store, &s, &up, sale(1, CARD)).await, approved());
        // Down from here: sale 2 is declined 98 and its reversal owed.
        let down = Scripted::new(vec![Upstream::Unknown; 4]);
        assert_eq!(ask(&store, &s, &down, sale(2, CARD)).await, declined_98());
        let down: Arc<dyn Acquirer> = down;
        // The terminal counted one sale more than the host: unbalanced toward the terminal.
        let req = settlement(&store, &s, 1).await;
        let answer = body(&store.settle(&s, &req, &down).await.unwrap());
        assert_eq!(answer["outcome"], "unbalanced", "{answer}");
        assert_eq!(answer["acquirer_outcome"], "pending", "{answer}");
        let (verdict, owed, tries) = kept(&store).await;
        assert_eq!((verdict, owed), (None, true), "owed, not dropped");
        assert_eq!(tries, 1, "one try without an answer");
        let upload = UploadRequest {
            request_id: request_id(),
            entries: Vec::new(),
            from: None,
            more: None,
        };
        let uploaded = body(&store.upload(&s, 1, &upload).await.unwrap());
        assert_eq!(uploaded["acquirer_outcome"], "pending", "{uploaded}");

        // A restart, and the acquirer answers again: the reversal first, then the settlement.
        let store = reopen(store, dir.path(), drop.as_deref()).await;
        let back = Scripted::new([Upstream::code("00"), settled_balanced()]);
        settle_in_background(&store, back.clone()).await;
        let asked = back.asked();
        assert_eq!(asked.len(), 2, "{:?}", back.log());
        assert_eq!(back.log()[0], "reversal 98 of sale 2");
        let Request::Settlement(sent) = &asked[1] else {
            panic!("{asked:?}")
        };
        assert_eq!((sent.debit.count, sent.debit.amount), (1, 1250));
        assert_eq!(sent.operator, s.operator, "the operator who settled");
        let (verdict, owed, _) = kept(&store).await;
        assert_eq!((verdict.as_deref(), owed), (Some("balanced"), false));

        // The answers kept for the terminal's retries now say so; nothing else changed.
        let again = body(&store.settle(&s, &req, &down).await.unwrap());
        assert_eq!(again["acquirer_outcome"], "balanced", "{again}");
        assert_eq!(again["outcome"], "unbalanced");
        assert_eq!(again["host_totals"], answer["host_totals"]);
        let again = body(&store.upload(&s, 1, &upload).await.unwrap());
        assert_eq!(again["acquirer_outcome"], "balanced", "{again}");
        assert_eq!(again["discrepancies"], uploaded["discrepancies"]);
        // A settlement of the settled batch under a new id gets the kept answer too.
        let other = SettlementRequest {
            request_id: request_id(),
            ..req.clone()
        };
        let other = body(&store.settle(&s, &other, &down).await.unwrap());
        assert_eq!(other["acquirer_outcome"], "balanced", "{other}");
        assert_eq!(back.asked().len(), 2, "settled with the acquirer once");
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r11_a_slow_acquirer_leaves_the_answer_pending_and_its_verdict_follows() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = store.with_forwarding(Forwarding {
            settle_wait: Duration::from_millis(100),
            ..Forwarding::default()
        });
        let slow = Recording::settling(
            Some(Duration::from_millis(800)),
            AcquirerOutcome::Unbalanced,
        );
        store
            .transaction(&s, sale(1, CARD), slow.as_ref())
            .await
            .unwrap();
        let req = settlement(&store, &s, 0).await;
        let acquirer: Arc<dyn Acquirer> = slow.clone();
        let started = Instant::now();
        let answer = body(&store.settle(&s, &req, &acquirer).await.unwrap());
        assert!(
            started.elapsed() < Duration::from_millis(800),
            "not waited for"
        );
        assert_eq!(answer["outcome"], "balanced", "{answer}");
        assert_eq!(answer["acquirer_outcome"], "pending", "{answer}");
        // The settlement with the acquirer went on after the answer.
        for _ in 0..250 {
            if kept(&store).await.0.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(kept(&store).await.0.as_deref(), Some("unbalanced"));
        let again = body(&store.settle(&s, &req, &acquirer).await.unwrap());
        assert_eq!(again["acquirer_outcome"], "unbalanced", "{again}");
        drop_pg(store, drop).await;
    }
}

/// A loopback address nothing listens on.
fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[tokio::test]
async fn r11_an_acquirer_unreachable_at_settlement_is_settled_later_with_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        // A fresh peer per database: its books are the batch's.
        let peer = Peer::start(&[]);
        let up: Arc<dyn Acquirer> = Arc::new(IsoAcquirer::new(peer.config(), LinkMode::PerRequest));
        let unreachable = crate::link::LinkConfig {
            addr: dead_address(),
            ..peer.config()
        };
        let down: Arc<dyn Acquirer> = Arc::new(IsoAcquirer::new(unreachable, LinkMode::PerRequest));
        for trace in 1..=2 {
            let answer = store
                .transaction(&s, sale(trace, CARD), up.as_ref())
                .await
                .unwrap();
            assert_eq!(body(&answer)["status"], "approved");
        }
        let req = settlement(&store, &s, 0).await;
        let answer = body(&store.settle(&s, &req, &down).await.unwrap());
        assert_eq!(answer["outcome"], "balanced", "{answer}");
        assert_eq!(answer["acquirer_outcome"], "pending", "{answer}");
        assert_eq!(kept(&store).await.0, None);

        settle_in_background(&store, up).await;
        assert_eq!(kept(&store).await.0.as_deref(), Some("balanced"));
        assert_eq!(peer.received(), ["0200", "0200", "0500"]);
        let again = body(&store.settle(&s, &req, &down).await.unwrap());
        assert_eq!(again["acquirer_outcome"], "balanced", "{again}");
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r11_an_a0_to_the_settlement_is_no_verdict_and_it_is_asked_again() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let up = Scripted::new([]);
        assert_eq!(ask(&store, &s, &up, sale(1, CARD)).await, approved());
        let a0: Arc<dyn Acquirer> = Scripted::new([Upstream::code("A0")]);
        let req = settlement(&store, &s, 0).await;
        let answer = body(&store.settle(&s, &req, &a0).await.unwrap());
        assert_eq!(answer["acquirer_outcome"], "pending", "{answer}");
        assert_eq!(kept(&store).await.0, None, "not kept as an error");
        let back = Scripted::new([settled_balanced()]);
        settle_in_background(&store, back.clone()).await;
        assert_eq!(kept(&store).await.0.as_deref(), Some("balanced"));
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r11_an_upload_cut_off_after_an_unbalanced_verdict_is_owed_and_sent_whole_again() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let up = Scripted::new([]);
        assert_eq!(ask(&store, &s, &up, sale(1, CARD)).await, approved());
        // The acquirer counts otherwise, then goes quiet in the middle of the upload.
        let unbalanced = Upstream::Answered {
            code: "00".into(),
            rrn: None,
            auth_code: None,
            settlement_date: None,
            batch: None,
            outcome: Some(AcquirerOutcome::Unbalanced),
        };
        let cut: Arc<dyn Acquirer> = Scripted::new([unbalanced, Upstream::Unknown]);
        let req = settlement(&store, &s, 0).await;
        let answer = body(&store.settle(&s, &req, &cut).await.unwrap());
        assert_eq!(answer["acquirer_outcome"], "unbalanced", "{answer}");
        // The verdict is kept; the upload is still owed.
        for _ in 0..500 {
            if kept(&store).await.2 > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (verdict, owed, _) = kept(&store).await;
        assert_eq!((verdict.as_deref(), owed), (Some("unbalanced"), true));

        let back = Scripted::new([]);
        let task = tokio::spawn(forwarder(store.clone(), back.clone()));
        for _ in 0..500 {
            if !kept(&store).await.1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        task.abort();
        let (verdict, owed, _) = kept(&store).await;
        assert_eq!((verdict.as_deref(), owed), (Some("unbalanced"), false));
        let uploads: Vec<_> = back
            .asked()
            .into_iter()
            .filter_map(|r| match r {
                Request::BatchUpload(u) => Some((u.records.len(), u.closing)),
                _ => None,
            })
            .collect();
        assert_eq!(
            uploads,
            [(1, false), (0, true)],
            "sent whole again, no 0500"
        );
        assert!(
            !back.log().iter().any(|l| l.starts_with("Settlement")),
            "{:?}",
            back.log()
        );
        drop_pg(store, drop).await;
    }
}
