//! R8 upstream, store-and-forward: a sale or void without an answer is declined `98` and
//! reversed upstream until the acquirer answers, before the terminal's next message (across a
//! restart: `tests_forward_restart`); a refund without an answer is sent again, and reversed once approved; a card is
//! kept only sealed (R4).

use super::tests::{drop_pg, sale, stores, CARD};
use super::tests_acquirer::{body, with_supervisor};
use super::*;
use crate::acquirer::{Acquirer, Answer as Upstream, AnswerFuture, Request, ReversalReason};
use crate::forward::{forwarder, DataKey, Forwarding};
use crate::store::now_ms;
use softpos::ids::{RequestId, TraceNo};
use softpos::protocol::{OriginalRef, ReversalRequest, TransactionRequest, TxKind};
use sqlx::Row;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An acquirer behind a link: never decides at once; answers from its script, in order, then
/// approves everything; keeps every request.
#[derive(Default)]
pub(super) struct Scripted {
    script: Mutex<VecDeque<Upstream>>,
    asked: Mutex<Vec<Request>>,
    delay: Option<Duration>,
    numbers: AtomicU32,
}

impl Scripted {
    /// One that answers nothing for `delay`.
    pub(super) fn slow(delay: Duration) -> Arc<Scripted> {
        Arc::new(Scripted {
            delay: Some(delay),
            ..Scripted::default()
        })
    }

    pub(super) fn new(script: impl IntoIterator<Item = Upstream>) -> Arc<Scripted> {
        Arc::new(Scripted {
            script: Mutex::new(script.into_iter().collect()),
            ..Scripted::default()
        })
    }

    fn then(&self, script: impl IntoIterator<Item = Upstream>) {
        self.script.lock().unwrap().extend(script);
    }

    pub(super) fn asked(&self) -> Vec<Request> {
        self.asked.lock().unwrap().clone()
    }

    /// Waits (10 s at most) until it has been asked something: on a loaded machine a fixed
    /// sleep may end before the host got that far.
    pub(super) async fn until_asked(&self) {
        for _ in 0..1000 {
            if !self.asked.lock().unwrap().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the acquirer was never asked");
    }

    /// What was asked, in short: `sale 1`, `reversal 98 of sale 1`, `refund 3` …
    pub(super) fn log(&self) -> Vec<String> {
        self.asked().iter().map(short).collect()
    }
}

fn short(r: &Request) -> String {
    match r {
        Request::Sale(s) => format!("sale {}", s.trace.get()),
        Request::Void(u) => format!("void {}", u.trace.get()),
        Request::Refund(u) => format!("refund {}", u.trace.get()),
        Request::Reversal(rev) => {
            let reason = match rev.reason {
                ReversalReason::NoAnswer => "98",
                ReversalReason::Other => "06",
            };
            format!("reversal {reason} of {}", short(&rev.original))
        }
        other => format!("{other:?}"),
    }
}

impl Acquirer for Scripted {
    fn ask(&self, request: Request) -> AnswerFuture<'_> {
        Box::pin(async move {
            // Kept as it is asked, so a test sees a slow acquirer being asked.
            self.asked.lock().unwrap().push(request);
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            let n = self.numbers.fetch_add(1, Ordering::Relaxed) + 1;
            self.script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| Upstream::Answered {
                    code: "00".into(),
                    rrn: Some(format!("7{n:011}")),
                    auth_code: Some(format!("B{n:05}")),
                    settlement_date: None,
                    batch: None,
                    outcome: None,
                })
        })
    }
}

fn declined(code: &str) -> Upstream {
    Upstream::code(code)
}

/// The store with a data key (made in `dir` when missing) and a short first retry.
pub(super) fn keyed(store: Store, dir: &Path) -> Store {
    let path = dir.join("data.key");
    DataKey::create_if_missing(&path).unwrap();
    store.with_forwarding(Forwarding {
        key: Some(Arc::new(DataKey::from_file(&path).unwrap())),
        first_retry: Duration::from_millis(20),
        armed_for: Duration::from_millis(300),
        lease: Duration::from_secs(5),
        ..Forwarding::default()
    })
}

pub(super) type JobView = (String, Option<String>, String, Option<String>, i64);

/// The jobs owed upstream (not the reversals on standby: `tests_standby`).
pub(super) async fn jobs(store: &Store) -> Vec<JobView> {
    jobs_where(store, "next_at < $1").await
}

/// The jobs owed upstream, or (`=`) the reversals kept on standby.
pub(super) async fn jobs_where(store: &Store, next_at: &str) -> Vec<JobView> {
    let sql = format!(
        "SELECT kind, reason, request, card, tries FROM upstream_jobs WHERE {next_at} ORDER BY id"
    );
    sqlx::query(&sql)
        .bind(crate::db::STANDBY)
        .fetch_all(store.reader())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get("kind"),
                r.get("reason"),
                r.get("request"),
                r.get("card"),
                r.get("tries"),
            )
        })
        .collect()
}

/// Runs the background task until no job is left (at most 10 s), then a few rounds more.
pub(super) async fn forward_all(store: &Store, acquirer: Arc<Scripted>) {
    let task = tokio::spawn(forwarder(store.clone(), acquirer));
    for _ in 0..500 {
        if jobs(store).await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    task.abort();
    assert!(jobs(store).await.is_empty(), "every job was answered");
}

pub(super) async fn ask(
    store: &Store,
    s: &Session,
    a: &Scripted,
    req: TransactionRequest,
) -> (String, String) {
    let b = body(&store.transaction(s, req, a).await.unwrap());
    (
        b["status"].as_str().unwrap().to_owned(),
        b["response_code"].as_str().unwrap().to_owned(),
    )
}

pub(super) fn refund_of(trace_no: u32, rrn: &str, amount: i64) -> TransactionRequest {
    TransactionRequest {
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        kind: TxKind::Refund,
        trace_no: TraceNo::try_from(trace_no).unwrap(),
        amount,
        currency: "CNY".into(),
        card: None,
        original: Some(OriginalRef::Rrn { rrn: rrn.into() }),
        supervisor_password: Some("supervisor-pw".into()),
        reference: None,
    }
}

pub(super) fn declined_98() -> (String, String) {
    ("declined".into(), "98".into())
}

pub(super) fn approved() -> (String, String) {
    ("approved".into(), "00".into())
}

#[tokio::test]
async fn r8_upstream_a_sale_without_an_answer_is_declined_98_and_reversed_until_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([Upstream::Unknown]);
        assert_eq!(
            ask(&store, &s, &acquirer, sale(1, CARD)).await,
            declined_98()
        );
        let owed = jobs(&store).await;
        assert_eq!(owed.len(), 1, "queued with the answer");
        let (kind, reason, request, card, _) = &owed[0];
        assert_eq!((kind.as_str(), reason.as_deref()), ("reversal", Some("98")));
        assert!(request.contains("411111******1111") && !request.contains(CARD));
        assert!(card.is_some(), "the card kept sealed");
        // Unanswered twice, then answered (any code acknowledges a reversal).
        acquirer.then([Upstream::Unknown, Upstream::Unknown, declined("25")]);
        forward_all(&store, acquirer.clone()).await;
        assert_eq!(
            acquirer.log(),
            [
                "sale 1",
                "reversal 98 of sale 1",
                "reversal 98 of sale 1",
                "reversal 98 of sale 1"
            ]
        );
        let Request::Reversal(rev) = &acquirer.asked()[3] else {
            panic!()
        };
        let Request::Sale(original) = rev.original.as_ref() else {
            panic!()
        };
        assert_eq!(original.pan.digits(), CARD, "the card opened for the 0400");
        assert_eq!(original.expiry.to_mm_yy(), "12/39");
        let b = store.current_batch(&s).await.unwrap();
        assert_eq!(b.host_totals.sale.count, 0, "a decline counts nowhere");
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r8_upstream_a_terminals_next_sale_goes_after_its_owed_reversal_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([Upstream::Unknown]);
        ask(&store, &s, &acquirer, sale(1, CARD)).await;
        // The reversal goes unanswered again: the next sale is declined 98 and never sent.
        acquirer.then([Upstream::Unknown]);
        assert_eq!(
            ask(&store, &s, &acquirer, sale(2, CARD)).await,
            declined_98()
        );
        assert_eq!(acquirer.log(), ["sale 1", "reversal 98 of sale 1"]);
        assert_eq!(
            jobs(&store).await.len(),
            1,
            "nothing owed for a sale never sent"
        );
        // The acquirer answers again: the reversal first, then the sale.
        assert_eq!(ask(&store, &s, &acquirer, sale(3, CARD)).await, approved());
        assert_eq!(
            acquirer.log(),
            [
                "sale 1",
                "reversal 98 of sale 1",
                "reversal 98 of sale 1",
                "sale 3"
            ]
        );
        assert!(jobs(&store).await.is_empty());
        let b = store.current_batch(&s).await.unwrap();
        assert_eq!(
            (b.host_totals.sale.count, b.host_totals.sale.amount),
            (1, 1250)
        );
        drop_pg(store, drop).await;
    }
}

/// Every byte of the database as text: SQLite's files, or every row of PostgreSQL's tables.
async fn database_text(store: &Store, dir: &Path, drop: Option<&str>) -> String {
    let Some((admin, name)) = drop.and_then(|d| d.split_once('|')) else {
        let mut out = String::new();
        for f in std::fs::read_dir(dir).unwrap() {
            out.push_str(&String::from_utf8_lossy(
                &std::fs::read(f.unwrap().path()).unwrap(),
            ));
        }
        return out;
    };
    let _ = store;
    use sqlx::Connection;
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let tables: Vec<String> = sqlx::query(
        "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("t"))
    .collect();
    assert!(tables.iter().any(|t| t == "upstream_jobs"));
    let mut out = String::new();
    for t in tables {
        for r in sqlx::query(&format!("SELECT x::text AS row FROM {t} x"))
            .fetch_all(&mut conn)
            .await
            .unwrap()
        {
            out.push_str(r.get::<&str, _>("row"));
            out.push('\n');
        }
    }
    out
}

#[tokio::test]
async fn r4_a_reversal_owed_upstream_keeps_no_clear_card_in_the_database() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let keyless = store.clone();
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([Upstream::Unknown]);
        ask(&store, &s, &acquirer, sale(1, CARD)).await;
        let owed = jobs(&store).await;
        assert!(owed.len() == 1 && owed[0].3.is_some(), "{owed:?}");
        let text = database_text(&store, dir.path(), drop.as_deref()).await;
        assert!(text.contains("411111******1111"), "the rows were read");
        // The expiry as typed, and as a quoted field either way round (a bare "1239" also turns
        // up inside timestamps and ciphertext).
        for secret in [CARD, "12/39", "\"1239\"", "\"3912\""] {
            assert!(!text.contains(secret), "the database holds {secret}");
        }
        forward_all(&store, acquirer.clone()).await;
        // Without a data key (the simulator's case) the card is not kept at all.
        acquirer.then([Upstream::Unknown]);
        ask(&keyless, &s, &acquirer, sale(2, "5555555555554444")).await;
        let owed = jobs(&store).await;
        assert!(owed.len() == 1 && owed[0].3.is_none(), "{owed:?}");
        let text = database_text(&store, dir.path(), drop.as_deref()).await;
        assert!(!text.contains("5555555555554444"));
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r7_r8_upstream_a_refund_without_an_answer_is_declined_98_sent_again_and_reversed_once_approved(
) {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([]);
        assert_eq!(ask(&store, &s, &acquirer, sale(1, CARD)).await, approved());
        let rrn = "700000000001";
        acquirer.then([Upstream::Unknown]);
        assert_eq!(
            ask(&store, &s, &acquirer, refund_of(2, rrn, 500)).await,
            declined_98()
        );
        let owed = jobs(&store).await;
        assert_eq!((owed[0].0.as_str(), owed[0].1.as_deref()), ("advice", None));
        // The refund again, unanswered once, then approved: the terminal was told declined,
        // so the approved refund is reversed.
        acquirer.then([Upstream::Unknown]);
        forward_all(&store, acquirer.clone()).await;
        // A second refund without an answer, which the acquirer then declines: nothing more.
        acquirer.then([Upstream::Unknown, declined("61")]);
        assert_eq!(
            ask(&store, &s, &acquirer, refund_of(3, rrn, 500)).await,
            declined_98()
        );
        forward_all(&store, acquirer.clone()).await;
        assert_eq!(
            acquirer.log(),
            [
                "sale 1",
                "refund 2",
                "refund 2",
                "refund 2",
                "reversal 06 of refund 2",
                "refund 3",
                "refund 3"
            ]
        );
        // Neither counts, and the whole sale is still refundable.
        let b = store.current_batch(&s).await.unwrap();
        assert_eq!(
            (b.host_totals.refund.count, b.host_totals.net_amount),
            (0, 1250)
        );
        assert_eq!(
            ask(&store, &s, &acquirer, refund_of(4, rrn, 1250)).await,
            approved()
        );
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r8_upstream_a_sale_approved_after_the_terminal_reversed_it_is_reversed_upstream() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let acquirer = Scripted::slow(Duration::from_millis(400));
        let req = sale(1, CARD);
        let pending = {
            let (store, s, req, a) = (store.clone(), s.clone(), req.clone(), acquirer.clone());
            tokio::spawn(async move { store.transaction(&s, req, a.as_ref()).await })
        };
        acquirer.until_asked().await;
        let rev = ReversalRequest {
            request_id: req.request_id.clone(),
        };
        assert!(store.reversal(&s, &rev).await.unwrap().reversed);
        assert_eq!(pending.await.unwrap().unwrap_err().status, 409);
        let owed = jobs(&store).await;
        assert_eq!(
            (owed[0].0.as_str(), owed[0].1.as_deref()),
            ("reversal", Some("06"))
        );
        forward_all(&store, acquirer.clone()).await;
        assert_eq!(acquirer.log(), ["sale 1", "reversal 06 of sale 1"]);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r8_upstream_a_sale_while_its_terminals_owed_reversal_is_being_sent_is_busy_and_not_booked()
{
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let acquirer = Scripted::new([Upstream::Unknown]);
        ask(&store, &s, &acquirer, sale(1, CARD)).await;
        // Another sender (the background task, another host process) holds the job.
        let held = format!(
            "UPDATE upstream_jobs SET leased_until = {}",
            now_ms() + 60_000
        );
        sqlx::query(&held).execute(store.reader()).await.unwrap();
        let req = sale(2, CARD);
        let busy = store.transaction(&s, req.clone(), acquirer.as_ref()).await;
        assert_eq!(busy.unwrap_err().code, ErrorCode::Busy);
        assert_eq!(acquirer.log(), ["sale 1"], "nothing sent");
        // Nothing was booked: once the job is free, the same request goes through.
        sqlx::query("UPDATE upstream_jobs SET leased_until = 0")
            .execute(store.reader())
            .await
            .unwrap();
        assert_eq!(ask(&store, &s, &acquirer, req).await, approved());
        assert_eq!(
            acquirer.log(),
            ["sale 1", "reversal 98 of sale 1", "sale 2"]
        );
        drop_pg(store, drop).await;
    }
}
