//! The ledger against an acquirer that answers as a test tells it, and records what it is
//! asked: voids and refunds go upstream, a decline passes its code through, no answer is a
//! decline `98`, a reversal overtakes a pending void or refund, and the terminal gets the
//! acquirer's RRN and authorisation code.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::*;
use crate::acquirer::{Acquirer, AcquirerOutcome, Answer as Upstream, AnswerFuture, Request};
use softpos::ids::{BatchNo, RequestId, TraceNo};
use softpos::protocol::{OriginalRef, ReversalRequest, TransactionRequest, TxKind};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(super) const SUPERVISOR_PW: &str = "supervisor-pw";

/// What the test acquirer answers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Told {
    Approve,
    Decline(&'static str),
    Unknown,
}

/// An acquirer that answers every operation as told, at once or after `delay`, and keeps
/// every request.
pub(super) struct Recording {
    told: Mutex<Told>,
    /// A settlement's verdict.
    outcome: AcquirerOutcome,
    /// `None`: decided at once (`decide_now`).
    delay: Option<Duration>,
    asked: Mutex<Vec<Request>>,
    numbers: AtomicU32,
}

impl Recording {
    pub(super) fn new(delay: Option<Duration>) -> Arc<Recording> {
        Recording::settling(delay, AcquirerOutcome::Balanced)
    }

    pub(super) fn settling(delay: Option<Duration>, outcome: AcquirerOutcome) -> Arc<Recording> {
        Arc::new(Recording {
            told: Mutex::new(Told::Approve),
            outcome,
            delay,
            asked: Mutex::new(Vec::new()),
            numbers: AtomicU32::new(0),
        })
    }

    pub(super) fn tell(&self, told: Told) {
        *self.told.lock().unwrap() = told;
    }

    pub(super) fn asked(&self) -> Vec<Request> {
        self.asked.lock().unwrap().clone()
    }

    fn answer(&self, request: &Request) -> Upstream {
        self.asked.lock().unwrap().push(request.clone());
        if request.with_card().is_none() && request.undo().is_none() {
            return Upstream::Answered {
                code: "00".into(),
                rrn: None,
                auth_code: None,
                settlement_date: Some("1205".into()),
                batch: None,
                outcome: Some(self.outcome),
            };
        }
        // Numbers of the acquirer's own, unlike the simulator's: 9 then 11 digits.
        let n = self.numbers.fetch_add(1, Ordering::Relaxed) + 1;
        match *self.told.lock().unwrap() {
            Told::Approve => Upstream::Answered {
                code: "00".into(),
                rrn: Some(format!("9{n:011}")),
                auth_code: Some(format!("A{n:05}")),
                settlement_date: Some("1205".into()),
                batch: None,
                outcome: None,
            },
            Told::Decline(code) => Upstream::Answered {
                code: code.into(),
                rrn: Some(format!("9{n:011}")),
                auth_code: None,
                settlement_date: None,
                batch: None,
                outcome: None,
            },
            Told::Unknown => Upstream::Unknown,
        }
    }
}

impl Acquirer for Recording {
    fn ask(&self, request: Request) -> AnswerFuture<'_> {
        Box::pin(async move {
            if let Some(delay) = self.delay {
                tokio::time::sleep(delay).await;
            }
            self.answer(&request)
        })
    }

    fn decide_now(&self, request: &Request) -> Option<Upstream> {
        self.delay.is_none().then(|| self.answer(request))
    }
}

pub(super) fn body(a: &Answer) -> serde_json::Value {
    serde_json::from_str(&a.body).unwrap()
}

pub(super) fn undo(
    kind: TxKind,
    trace_no: u32,
    amount: i64,
    original: OriginalRef,
) -> TransactionRequest {
    TransactionRequest {
        request_id: RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
        kind,
        trace_no: TraceNo::try_from(trace_no).unwrap(),
        amount,
        currency: "CNY".into(),
        card: None,
        original: Some(original),
        supervisor_password: Some(SUPERVISOR_PW.into()),
        reference: None,
    }
}

pub(super) fn void_of(trace_no: u32, sale_trace: u32) -> TransactionRequest {
    let original = OriginalRef::Trace {
        trace_no: TraceNo::try_from(sale_trace).unwrap(),
    };
    undo(TxKind::Void, trace_no, 1250, original)
}

pub(super) fn refund_of(trace_no: u32, rrn: &str, amount: i64) -> TransactionRequest {
    let original = OriginalRef::Rrn { rrn: rrn.into() };
    undo(TxKind::Refund, trace_no, amount, original)
}

/// Sales, voids and refunds counted in the open batch, and what is left to refund of a sale.
async fn totals(store: &Store, s: &Session) -> (u64, u64, i64) {
    let b = store.current_batch(s).await.unwrap();
    (
        b.host_totals.void.count,
        b.host_totals.refund.count,
        b.host_totals.net_amount,
    )
}

pub(super) async fn with_supervisor(store: &Store) {
    store
        .add_operator(MERCHANT, "00", SUPERVISOR_PW.into())
        .await
        .unwrap();
}

/// Asks and answers `req`, as the terminal would: the answer's body.
async fn ask(
    store: &Store,
    s: &Session,
    acquirer: &dyn Acquirer,
    req: TransactionRequest,
) -> serde_json::Value {
    body(&store.transaction(s, req, acquirer).await.unwrap())
}

/// Status, RRN and authorisation code of an answer.
fn got(a: &serde_json::Value) -> (&str, Option<&str>, Option<&str>) {
    (
        a["status"].as_str().unwrap_or_default(),
        a["rrn"].as_str(),
        a["auth_code"].as_str(),
    )
}

#[tokio::test]
async fn r5_r6_r7_the_terminal_gets_the_rrn_and_auth_code_the_acquirer_answered() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let acquirer = Recording::new(None);
        let a = ask(&store, &s, acquirer.as_ref(), sale(1, CARD)).await;
        assert_eq!(
            got(&a),
            ("approved", Some("900000000001"), Some("A00001")),
            "{a}"
        );
        ask(&store, &s, acquirer.as_ref(), sale(2, CARD)).await;
        let v = ask(&store, &s, acquirer.as_ref(), void_of(3, 2)).await;
        assert_eq!(
            got(&v),
            ("approved", Some("900000000003"), Some("A00003")),
            "{v}"
        );
        let r = ask(
            &store,
            &s,
            acquirer.as_ref(),
            refund_of(4, "900000000001", 500),
        )
        .await;
        assert_eq!(
            got(&r),
            ("approved", Some("900000000004"), Some("A00004")),
            "{r}"
        );
        assert_eq!(totals(&store, &s).await, (1, 1, 2500 - 1250 - 500));
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r6_r7_a_void_and_a_refund_are_asked_upstream_with_their_sale() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let acquirer = Recording::new(None);
        ask(&store, &s, acquirer.as_ref(), sale(1, CARD)).await;
        ask(&store, &s, acquirer.as_ref(), sale(2, CARD)).await;
        ask(&store, &s, acquirer.as_ref(), void_of(3, 2)).await;
        ask(
            &store,
            &s,
            acquirer.as_ref(),
            refund_of(4, "900000000001", 500),
        )
        .await;
        let asked = acquirer.asked();
        let (Request::Void(void), Request::Refund(refund)) = (&asked[2], &asked[3]) else {
            panic!("{asked:?}")
        };
        assert_eq!(
            (void.trace.get(), void.amount.get(), void.batch),
            (3, 1250, BatchNo::FIRST)
        );
        let o = &void.original;
        assert_eq!(
            (
                o.trace.get(),
                o.batch,
                o.rrn.as_deref(),
                o.auth_code.as_deref()
            ),
            (2, BatchNo::FIRST, Some("900000000002"), Some("A00002"))
        );
        assert_eq!((refund.trace.get(), refund.amount.get()), (4, 500));
        let o = &refund.original;
        assert_eq!(
            (
                o.trace.get(),
                o.batch,
                o.rrn.as_deref(),
                o.auth_code.as_deref()
            ),
            (1, BatchNo::FIRST, Some("900000000001"), Some("A00001"))
        );
        assert_eq!(
            o.date, "1205",
            "61.3: the sale's settlement date, as the acquirer gave it"
        );
        assert_eq!(
            (
                void.terminal.terminal_id.as_str(),
                refund.terminal.merchant_id.as_str()
            ),
            ("10000001", MERCHANT)
        );
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r6_r7_a_void_or_refund_the_acquirer_declines_passes_its_code_through_and_changes_no_total()
{
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let acquirer = Recording::new(None);
        let a = body(
            &store
                .transaction(&s, sale(1, CARD), acquirer.as_ref())
                .await
                .unwrap(),
        );
        let rrn = a["rrn"].as_str().unwrap().to_owned();
        let before = totals(&store, &s).await;
        acquirer.tell(Told::Unknown);
        let d = body(
            &store
                .transaction(&s, sale(2, CARD), acquirer.as_ref())
                .await
                .unwrap(),
        );
        assert_eq!(
            (
                d["status"].as_str(),
                d["response_code"].as_str(),
                d["rrn"].as_str()
            ),
            (Some("declined"), Some("98"), None),
            "{d}"
        );
        let mut trace = 1;
        for (told, code) in [(Told::Decline("12"), "12"), (Told::Unknown, "98")] {
            acquirer.tell(told);
            trace += 2;
            for req in [void_of(trace, 1), refund_of(trace + 1, &rrn, 1250)] {
                let d = body(&store.transaction(&s, req, acquirer.as_ref()).await.unwrap());
                assert_eq!(
                    (d["status"].as_str(), d["response_code"].as_str()),
                    (Some("declined"), Some(code)),
                    "{d}"
                );
                assert_eq!(d["auth_code"], serde_json::Value::Null, "{d}");
                assert_eq!(
                    totals(&store, &s).await,
                    before,
                    "{told:?}: no total changes"
                );
            }
        }
        // The declines gave the sale back: it can still be refunded in full, then not voided.
        acquirer.tell(Told::Approve);
        let r = body(
            &store
                .transaction(&s, refund_of(7, &rrn, 1250), acquirer.as_ref())
                .await
                .unwrap(),
        );
        assert_eq!(r["status"], "approved", "{r}");
        drop_pg(store, drop).await;
    }
}

/// Starts a void or refund on a slow acquirer, reverses it while the acquirer decides, and
/// returns what the late answer came to.
pub(super) async fn overtaken(
    store: &Store,
    s: &Session,
    acquirer: &Arc<Recording>,
    req: TransactionRequest,
) -> ApiError {
    let pending = {
        let (store, s, req, acquirer) = (store.clone(), s.clone(), req.clone(), acquirer.clone());
        tokio::spawn(async move { store.transaction(&s, req, acquirer.as_ref()).await })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let busy = store.transaction(s, req.clone(), acquirer.as_ref()).await;
    assert_eq!(busy.unwrap_err().code, ErrorCode::Busy, "it is pending");
    let rev = store
        .reversal(
            s,
            &ReversalRequest {
                request_id: req.request_id.clone(),
            },
        )
        .await
        .unwrap();
    assert!(rev.reversed);
    pending.await.unwrap().unwrap_err()
}

#[tokio::test]
async fn r8_a_reversal_overtakes_a_pending_void_or_refund_and_gives_the_sale_back() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let acquirer = Recording::new(Some(Duration::from_millis(1200)));
        let a = body(
            &store
                .transaction(&s, sale(1, CARD), acquirer.as_ref())
                .await
                .unwrap(),
        );
        let rrn = a["rrn"].as_str().unwrap().to_owned();
        let before = totals(&store, &s).await;
        let late = overtaken(&store, &s, &acquirer, void_of(2, 1)).await;
        assert_eq!((late.status, late.code), (409, ErrorCode::BadRequest));
        // The acquirer approved what the terminal reversed meanwhile: the host owes it a
        // reversal (R8 upstream), sent before the terminal's next message.
        assert_eq!(store.forward_due(acquirer.as_ref()).await.unwrap(), 1);
        let late = overtaken(&store, &s, &acquirer, refund_of(3, &rrn, 1250)).await;
        assert_eq!((late.status, late.code), (409, ErrorCode::BadRequest));
        assert_eq!(store.forward_due(acquirer.as_ref()).await.unwrap(), 1);
        assert_eq!(
            totals(&store, &s).await,
            before,
            "the reversed ones count nowhere"
        );
        // The sale is whole again: the void it got back is given.
        let v = body(
            &store
                .transaction(&s, void_of(4, 1), acquirer.as_ref())
                .await
                .unwrap(),
        );
        assert_eq!(v["status"], "approved", "{v}");
        assert_eq!(totals(&store, &s).await.0, 1);
        drop_pg(store, drop).await;
    }
}
