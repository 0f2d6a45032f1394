//! The numbers the acquirer gives, against the pyiso8583 peer (tests/acquirer/): the batch
//! number its sign-in answer assigns goes in 60.2 of every message of the batch and in 61.1
//! of what undoes the batch's sales, and a refund names its sale by the acquirer's settlement
//! date (61.3). The terminal sees the host's batch numbers throughout.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::tests_acquirer::{body, refund_of, void_of, with_supervisor};
use super::*;
use crate::acquirer::{mmdd, Acquirer, IsoAcquirer, LinkMode};
use crate::peer_process::{peer_today, Peer};
use softpos::protocol::{SettlementRequest, SignInRequest, TransactionRequest};
use sqlx::Row;
use std::sync::Arc;

const HELD: &str = "4000000000003220";

async fn sign_in(store: &Store, s: &Session, acquirer: &Arc<dyn Acquirer>) -> u32 {
    let req = SignInRequest {
        operator: "01".into(),
        password: "operator-pw".into(),
    };
    let signed_in = store
        .sign_in(&s.terminal, &req, acquirer.as_ref())
        .await
        .unwrap();
    signed_in.batch_no.get()
}

async fn ask(store: &Store, s: &Session, a: &Arc<dyn Acquirer>, req: TransactionRequest) -> Value {
    body(&store.transaction(s, req, a.as_ref()).await.unwrap())
}

type Value = serde_json::Value;

/// Settles the open batch with the host's totals; the acquirer's verdict on it.
async fn settle(store: &Store, s: &Session, acquirer: &Arc<dyn Acquirer>) -> Option<String> {
    let b = store.current_batch(s).await.unwrap();
    let req = SettlementRequest {
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        batch_no: b.batch_no,
        terminal_totals: b.host_totals,
    };
    store.settle(s, &req, acquirer).await.unwrap();
    sqlx::query("SELECT acquirer_outcome FROM batches WHERE batch_no = $1")
        .bind(i64::from(b.batch_no.get()))
        .fetch_one(store.reader())
        .await
        .unwrap()
        .try_get("acquirer_outcome")
        .unwrap()
}

/// MTI, 60.2 and 61 of each request the peer received.
fn upstream(peer: &Peer) -> Vec<(String, String, String)> {
    peer.requests()
        .into_iter()
        .map(|(mti, f)| {
            let f60 = f["60"].as_str().unwrap_or_default();
            let f61 = f["61"].as_str().unwrap_or_default().to_owned();
            (mti, f60.get(2..8).unwrap_or_default().to_owned(), f61)
        })
        .collect()
}

/// The peer started with `args`, and an acquirer reaching it a connection per exchange.
fn peer_acquirer(args: &[&str]) -> (Peer, Arc<dyn Acquirer>) {
    let peer = Peer::start(args);
    let acquirer = Arc::new(IsoAcquirer::new(peer.config(), LinkMode::PerRequest));
    (peer, acquirer)
}

#[tokio::test]
async fn r8_r11_r16_upstream_a_batch_goes_under_the_number_the_acquirer_assigned_and_balances() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        // A peer each: the two databases' terminals would share its books.
        let (peer, acquirer) = peer_acquirer(&["--batch", "000777"]);
        with_supervisor(&store).await;
        store
            .add_operator(MERCHANT, "01", "operator-pw".into())
            .await
            .unwrap();
        // The terminal's batch is the host's 1; upstream it is 000777.
        assert_eq!(sign_in(&store, &s, &acquirer).await, 1);
        let first = ask(&store, &s, &acquirer, sale(1, CARD)).await;
        assert_eq!(
            (&first["status"], &first["batch_no"]),
            (&"approved".into(), &1.into())
        );
        // No answer in time: declined 98, reversed upstream before the next message.
        let held = ask(&store, &s, &acquirer, sale(2, HELD)).await;
        assert_eq!(held["response_code"], "98", "{held}");
        let void = ask(&store, &s, &acquirer, void_of(3, 1)).await;
        assert_eq!(void["status"], "approved", "{void}");
        let fourth = ask(&store, &s, &acquirer, sale(4, CARD)).await;
        let rrn = fourth["rrn"].as_str().unwrap().to_owned();
        let refund = ask(&store, &s, &acquirer, refund_of(5, &rrn, 500)).await;
        assert_eq!(refund["status"], "approved", "{refund}");
        // The peer's books of batch 000777 are the host's batch 1.
        assert_eq!(
            settle(&store, &s, &acquirer).await.as_deref(),
            Some("balanced")
        );

        // The next batch goes on from the acquirer's number. A sign-in now assigns 000777
        // again, but the batch has gone upstream as 000778 already: it stays so.
        let sixth = ask(&store, &s, &acquirer, sale(6, CARD)).await;
        assert_eq!(sixth["batch_no"], 2, "{sixth}");
        assert_eq!(sign_in(&store, &s, &acquirer).await, 2);
        // A refund of a sale of batch 000777 names it so.
        let refund = ask(&store, &s, &acquirer, refund_of(7, &rrn, 300)).await;
        assert_eq!(refund["status"], "approved", "{refund}");
        assert_eq!(
            settle(&store, &s, &acquirer).await.as_deref(),
            Some("balanced")
        );

        // 61.3: the peer's settlement date of sale 4, its calendar day by default.
        let of_4 = format!("000777000004{}", mmdd(&peer_today()));
        let want: Vec<(&str, &str, &str)> = vec![
            ("0800", "000001", ""),
            ("0200", "000777", ""),
            ("0200", "000777", ""),
            ("0400", "000777", ""),
            ("0200", "000777", "000777000001"),
            ("0200", "000777", ""),
            ("0220", "000777", &of_4),
            ("0500", "000777", ""),
            ("0200", "000778", ""),
            ("0800", "000778", ""),
            ("0220", "000778", &of_4),
            ("0500", "000778", ""),
        ];
        let got = upstream(&peer);
        let got: Vec<(&str, &str, &str)> = got
            .iter()
            .map(|(m, b, o)| (m.as_str(), b.as_str(), o.as_str()))
            .collect();
        assert_eq!(got, want);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r7_upstream_a_refund_names_its_sale_by_the_acquirers_settlement_date() {
    // The acquirer's settlement day is not the calendar day (after its own cut-off, say).
    let today = mmdd(&peer_today());
    let day = if today == "0101" { "0102" } else { "0101" };
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let (peer, acquirer) = peer_acquirer(&["--settlement-date", day]);
        with_supervisor(&store).await;
        let sold = ask(&store, &s, &acquirer, sale(1, CARD)).await;
        let rrn = sold["rrn"].as_str().unwrap();
        let kept: Option<String> =
            sqlx::query("SELECT settlement_date FROM transactions WHERE rrn = $1")
                .bind(rrn)
                .fetch_one(store.reader())
                .await
                .unwrap()
                .try_get("settlement_date")
                .unwrap();
        assert_eq!(kept.as_deref(), Some(day));
        // The peer finds the sale only by that day in 61.3.
        let refund = ask(&store, &s, &acquirer, refund_of(2, rrn, 500)).await;
        assert_eq!(refund["status"], "approved", "{refund}");
        let asked = upstream(&peer);
        assert_eq!(asked[1].2, format!("000001000001{day}"), "{asked:?}");
        drop_pg(store, drop).await;
    }
}

/// Each batch's number, number upstream and the acquirer's verdict, oldest first.
async fn batches(store: &Store) -> Vec<(i64, Option<i64>, Option<String>)> {
    let rows = sqlx::query(
        "SELECT batch_no, upstream_batch_no, acquirer_outcome FROM batches ORDER BY id",
    )
    .fetch_all(store.reader())
    .await
    .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("batch_no").unwrap(),
                r.try_get("upstream_batch_no").unwrap(),
                r.try_get("acquirer_outcome").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn r11_r15_upstream_the_batch_after_a_cut_off_goes_on_from_the_acquirers_number() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let (peer, acquirer) = peer_acquirer(&["--batch", "000777"]);
        store
            .add_operator(MERCHANT, "01", "operator-pw".into())
            .await
            .unwrap();
        sign_in(&store, &s, &acquirer).await;
        ask(&store, &s, &acquirer, sale(1, CARD)).await;
        let report = store
            .cutoff(&crate::store::CutoffClock::default_clock(), false)
            .await
            .unwrap();
        assert_eq!(report.closed_batches, 1);
        let next = ask(&store, &s, &acquirer, sale(2, CARD)).await;
        assert_eq!(next["batch_no"], 2, "{next}");
        // The batch closed at the cut-off is settled under its own number upstream.
        let req = SignInRequest {
            operator: "01".into(),
            password: "operator-pw".into(),
        };
        let signed_in = store
            .sign_in(&s.terminal, &req, acquirer.as_ref())
            .await
            .unwrap();
        let closed = &signed_in.closed_batches[0];
        let settle = SettlementRequest {
            request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
            batch_no: closed.batch_no,
            terminal_totals: closed.host_totals.clone(),
        };
        store.settle(&s, &settle, &acquirer).await.unwrap();
        let batches = batches(&store).await;
        assert_eq!(
            batches,
            [
                (1, Some(777), Some("balanced".into())),
                (2, Some(778), None)
            ]
        );
        let got: Vec<(String, String)> = upstream(&peer)
            .into_iter()
            .map(|(mti, batch, _)| (mti, batch))
            .collect();
        let want = [
            ("0800", "000001"),
            ("0200", "000777"),
            ("0200", "000778"),
            ("0800", "000778"),
            ("0500", "000777"),
        ]
        .map(|(m, b)| (m.to_owned(), b.to_owned()));
        assert_eq!(got, want);
        drop_pg(store, drop).await;
    }
}
