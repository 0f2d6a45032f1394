//! R20 pre-authorisation on the host, on SQLite and PostgreSQL: a hold counts in no total; a
//! completion is for at most 115 % of its hold, once, within 30 days, at any terminal of the
//! merchant; a pre-auth void releases a hold of the open batch; a completion void and a
//! reversal each give back what they took from the hold.

use super::tests::{drop_pg, sale, stores, CARD, MERCHANT};
use super::tests_acquirer::{body, undo, with_supervisor, Recording, Told};
use super::*;
use crate::acquirer::AcquirerSimulator;
use softpos::ids::TraceNo;
use softpos::protocol::{OriginalRef, ReversalRequest, TransactionRequest, TxKind};

const HOLD: i64 = 10_000;

fn preauth(trace_no: u32, amount: i64) -> TransactionRequest {
    TransactionRequest {
        kind: TxKind::Preauth,
        amount,
        ..sale(trace_no, CARD)
    }
}

fn hold_of(answer: &serde_json::Value) -> OriginalRef {
    OriginalRef::Hold {
        rrn: answer["rrn"].as_str().unwrap().into(),
        auth_code: answer["auth_code"].as_str().unwrap().into(),
    }
}

fn completion(trace_no: u32, hold: &OriginalRef, amount: i64) -> TransactionRequest {
    TransactionRequest {
        kind: TxKind::Completion,
        amount,
        original: Some(hold.clone()),
        ..sale(trace_no, CARD)
    }
}

fn preauth_void(trace_no: u32, hold: &OriginalRef, amount: i64) -> TransactionRequest {
    undo(TxKind::PreauthVoid, trace_no, amount, hold.clone())
}

fn completion_void(trace_no: u32, completion_trace: u32, amount: i64) -> TransactionRequest {
    let original = OriginalRef::Trace {
        trace_no: TraceNo::try_from(completion_trace).unwrap(),
    };
    undo(TxKind::CompletionVoid, trace_no, amount, original)
}

async fn ask(store: &Store, s: &Session, req: TransactionRequest) -> ApiResult<serde_json::Value> {
    let acquirer = AcquirerSimulator::default();
    store.transaction(s, req, &acquirer).await.map(|a| body(&a))
}

async fn approved(store: &Store, s: &Session, req: TransactionRequest) -> serde_json::Value {
    let a = ask(store, s, req).await.unwrap();
    assert_eq!(a["status"], "approved", "{a}");
    a
}

async fn refused(store: &Store, s: &Session, req: TransactionRequest) -> ApiError {
    ask(store, s, req).await.unwrap_err()
}

async fn reverse(store: &Store, s: &Session, req: &TransactionRequest) -> bool {
    let rev = ReversalRequest {
        request_id: req.request_id.clone(),
    };
    store.reversal(s, &rev).await.unwrap().reversed
}

/// A second terminal of the same merchant, signed in.
async fn counter_terminal(store: &Store, s: &Session) -> Session {
    store
        .add_terminal(
            MERCHANT,
            "10000002",
            softpos::terminal::money::Currency::Cny,
            None,
        )
        .await
        .unwrap();
    let row = sqlx::query("SELECT id FROM terminals WHERE terminal_id = '10000002'")
        .fetch_one(store.reader())
        .await
        .unwrap();
    let mut other = s.clone();
    other.terminal.terminal_ref = sqlx::Row::try_get(&row, "id").unwrap();
    other.terminal.terminal_id = "10000002".into();
    other
}

#[tokio::test]
async fn r20_a_hold_is_approved_with_rrn_and_auth_code_and_counts_in_no_total() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let held = approved(&store, &s, preauth(1, HOLD)).await;
        assert_eq!(held["auth_code"].as_str().map(str::len), Some(6), "{held}");
        approved(&store, &s, preauth_void(2, &hold_of(&held), HOLD)).await;
        let t = store.current_batch(&s).await.unwrap().host_totals;
        assert_eq!((t.sale.count, t.void.count, t.net_amount), (0, 0, 0));
        // R4: a hold takes a card as a sale does.
        let no_card = TransactionRequest {
            card: None,
            ..preauth(3, HOLD)
        };
        assert_eq!(no_card.check().unwrap_err().code, ErrorCode::InvalidCard);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_completion_over_115_percent_is_invalid_amount() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let hold = hold_of(&approved(&store, &s, preauth(1, HOLD)).await);
        let over = refused(&store, &s, completion(2, &hold, 11_501)).await;
        assert_eq!(over.code, ErrorCode::InvalidAmount);
        assert!(over.message.contains("11500"), "{}", over.message);
        // The refused completion took nothing: exactly 115 % completes it.
        approved(&store, &s, completion(3, &hold, 11_500)).await;
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_hold_completed_once() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let hold = hold_of(&approved(&store, &s, preauth(1, HOLD)).await);
        let first = completion(2, &hold, 9_000);
        let done = approved(&store, &s, first.clone()).await;
        // R9: its retry is its first answer, not a second completion.
        assert_eq!(ask(&store, &s, first).await.unwrap(), done);
        let again = refused(&store, &s, completion(3, &hold, 9_000)).await;
        assert_eq!(again.code, ErrorCode::PreauthCompleted);
        // A sale or a hold naming the hold completes nothing.
        for kind in [TxKind::Sale, TxKind::Preauth] {
            let other = TransactionRequest {
                kind,
                ..completion(10 + u32::from(kind == TxKind::Preauth), &hold, 9_000)
            };
            assert_eq!(approved(&store, &s, other).await["status"], "approved");
        }
        let unknown = OriginalRef::Hold {
            rrn: done["rrn"].as_str().unwrap().into(),
            auth_code: "ZZZZZZ".into(),
        };
        let none = refused(&store, &s, completion(4, &unknown, 9_000)).await;
        assert_eq!(none.code, ErrorCode::PreauthNotFound);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_expired_hold_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let hold = hold_of(&approved(&store, &s, preauth(1, HOLD)).await);
        // Booked 30 days and a minute ago.
        sqlx::query("UPDATE transactions SET created_at = created_at - $1 WHERE kind = 'preauth'")
            .bind(preauth::HOLD_WINDOW_MS + 60_000)
            .execute(store.reader())
            .await
            .unwrap();
        let late = refused(&store, &s, completion(2, &hold, HOLD)).await;
        assert_eq!(late.code, ErrorCode::PreauthExpired);
        let late = refused(&store, &s, preauth_void(3, &hold, HOLD)).await;
        assert_eq!(late.code, ErrorCode::PreauthExpired);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_completion_void_reopens_the_hold() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let hold = hold_of(&approved(&store, &s, preauth(1, HOLD)).await);
        approved(&store, &s, completion(2, &hold, 9_000)).await;
        let wrong = refused(&store, &s, completion_void(3, 2, 8_000)).await;
        assert_eq!(wrong.code, ErrorCode::InvalidAmount, "full amount only");
        approved(&store, &s, completion_void(4, 2, 9_000)).await;
        let twice = refused(&store, &s, completion_void(5, 2, 9_000)).await;
        assert_eq!(twice.code, ErrorCode::AlreadyVoided);
        // A completion void names a completion, never a sale.
        approved(&store, &s, sale(6, CARD)).await;
        let of_sale = refused(&store, &s, completion_void(7, 6, 1250)).await;
        assert_eq!(of_sale.code, ErrorCode::UnknownTransaction);
        approved(&store, &s, completion(8, &hold, 10_000)).await;
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_reversal_of_completion_reopens_the_hold() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let preauth_req = preauth(1, HOLD);
        let hold = hold_of(&approved(&store, &s, preauth_req.clone()).await);
        let first = completion(2, &hold, 9_000);
        approved(&store, &s, first.clone()).await;
        // R8, dependents: the hold has a completion standing, so it is not reversed.
        assert!(!reverse(&store, &s, &preauth_req).await);
        assert!(reverse(&store, &s, &first).await);
        let second = completion(3, &hold, 9_500);
        approved(&store, &s, second.clone()).await;
        // A completion void reversed completes its hold again.
        let void = completion_void(4, 3, 9_500);
        approved(&store, &s, void.clone()).await;
        assert!(reverse(&store, &s, &void).await);
        let third = refused(&store, &s, completion(5, &hold, 9_000)).await;
        assert_eq!(third.code, ErrorCode::PreauthCompleted);
        // Voided again and completed again: the void can no longer be reversed.
        let void = completion_void(6, 3, 9_500);
        approved(&store, &s, void.clone()).await;
        approved(&store, &s, completion(7, &hold, 9_000)).await;
        assert!(!reverse(&store, &s, &void).await);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_reversal_of_a_hold_or_its_release_undoes_it() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let first = preauth(1, HOLD);
        let hold = hold_of(&approved(&store, &s, first.clone()).await);
        assert!(reverse(&store, &s, &first).await);
        let gone = refused(&store, &s, completion(2, &hold, HOLD)).await;
        assert_eq!(gone.code, ErrorCode::PreauthNotFound);

        let hold = hold_of(&approved(&store, &s, preauth(3, HOLD)).await);
        let release = preauth_void(4, &hold, HOLD);
        approved(&store, &s, release.clone()).await;
        let released = refused(&store, &s, completion(5, &hold, HOLD)).await;
        assert_eq!(released.code, ErrorCode::PreauthNotFound);
        assert!(reverse(&store, &s, &release).await);
        approved(&store, &s, completion(6, &hold, HOLD)).await;
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_preauth_void_needs_supervisor() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let hold = hold_of(&approved(&store, &s, preauth(1, HOLD)).await);
        let bare = TransactionRequest {
            supervisor_password: None,
            ..preauth_void(2, &hold, HOLD)
        };
        assert_eq!(
            bare.check().unwrap_err().code,
            ErrorCode::SupervisorRequired
        );
        assert_eq!(
            refused(&store, &s, bare).await.code,
            ErrorCode::SupervisorRequired
        );
        // R16: wrong supervisor passwords count as a void's do; the third locks.
        for trace in 3..=5 {
            let wrong = TransactionRequest {
                supervisor_password: Some("wrong-pw".into()),
                ..preauth_void(trace, &hold, HOLD)
            };
            assert_eq!(
                refused(&store, &s, wrong).await.code,
                ErrorCode::SupervisorRequired
            );
        }
        let locked = refused(&store, &s, preauth_void(6, &hold, HOLD)).await;
        assert_eq!(locked.code, ErrorCode::SupervisorRequired);
        assert!(locked.message.contains("locked"), "{}", locked.message);
        // A completion needs none.
        let c = completion(7, &hold, HOLD);
        assert!(c.check().is_ok());
        approved(&store, &s, c).await;
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_a_hold_completes_at_another_counter_but_is_voided_only_in_its_open_batch() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        with_supervisor(&store).await;
        let other = counter_terminal(&store, &s).await;
        let hold = hold_of(&approved(&store, &s, preauth(1, HOLD)).await);
        let elsewhere = refused(&store, &other, preauth_void(1, &hold, HOLD)).await;
        assert_eq!(elsewhere.code, ErrorCode::VoidNotAllowedSettled);
        let part = refused(&store, &s, preauth_void(2, &hold, HOLD - 1)).await;
        assert_eq!(part.code, ErrorCode::InvalidAmount, "full amount only");
        approved(&store, &other, completion(2, &hold, HOLD)).await;
        let done = refused(&store, &s, preauth_void(3, &hold, HOLD)).await;
        assert_eq!(done.code, ErrorCode::PreauthCompleted);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r20_a_completion_the_acquirer_declines_leaves_the_hold_open() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        for (round, delay) in [(0, None), (10, Some(std::time::Duration::from_millis(50)))] {
            let acquirer = Recording::new(delay);
            let held = body(
                &store
                    .transaction(&s, preauth(round + 1, HOLD), acquirer.as_ref())
                    .await
                    .unwrap(),
            );
            let hold = hold_of(&held);
            acquirer.tell(Told::Decline("51"));
            let declined = body(
                &store
                    .transaction(&s, completion(round + 2, &hold, HOLD), acquirer.as_ref())
                    .await
                    .unwrap(),
            );
            assert_eq!(declined["status"], "declined", "{declined}");
            acquirer.tell(Told::Approve);
            let done = body(
                &store
                    .transaction(&s, completion(round + 3, &hold, HOLD), acquirer.as_ref())
                    .await
                    .unwrap(),
            );
            assert_eq!(done["status"], "approved", "{done}");
        }
        drop_pg(store, drop).await;
    }
}

/// MTI, 3, 25, 38, 60.1 and 61 of each request the peer received.
type Seen = (String, String, String, String, String, String);

fn seen(peer: &crate::peer_process::Peer) -> Vec<Seen> {
    let text = |f: &serde_json::Value, n: &str| f[n].as_str().unwrap_or_default().to_owned();
    peer.requests()
        .into_iter()
        .map(|(mti, f)| {
            let kind = text(&f, "60").get(..2).unwrap_or_default().to_owned();
            (
                mti,
                text(&f, "3"),
                text(&f, "25"),
                text(&f, "38"),
                kind,
                text(&f, "61"),
            )
        })
        .collect()
}

/// What the peer should see, by the profile's table: a hold, a completion (61.3 the hold's
/// settlement day), its void, a completion again, a second hold and its release.
fn profile_rows(auth: &str, done_auth: &str, second_auth: &str) -> Vec<Seen> {
    let t = |s: &str| s.to_owned();
    let day = crate::acquirer::mmdd(&crate::peer_process::peer_today());
    let of_hold = format!("000001000001{day}");
    vec![
        (t("0100"), t("030000"), t("06"), t(""), t("10"), t("")),
        (
            t("0200"),
            t("000000"),
            t("06"),
            t(auth),
            t("20"),
            of_hold.clone(),
        ),
        (
            t("0200"),
            t("200000"),
            t("06"),
            t(done_auth),
            t("21"),
            t("000001000001"),
        ),
        (t("0200"), t("000000"), t("06"), t(auth), t("20"), of_hold),
        (t("0100"), t("030000"), t("06"), t(""), t("10"), t("")),
        (
            t("0100"),
            t("200000"),
            t("06"),
            t(second_auth),
            t("11"),
            t("000001000002"),
        ),
    ]
}

#[tokio::test]
async fn r20_upstream_each_kind_goes_as_the_profile_says_and_the_peer_approves_it() {
    use crate::acquirer::{IsoAcquirer, LinkMode};
    use crate::peer_process::Peer;
    let dir = tempfile::tempdir().unwrap();
    for (store, s, pg) in stores(dir.path()).await {
        // A peer each: the two databases' terminals would share its books.
        let peer = Peer::start(&[]);
        let acquirer = IsoAcquirer::new(peer.config(), LinkMode::PerRequest);
        with_supervisor(&store).await;
        let other = counter_terminal(&store, &s).await;
        let ask = |s: &Session, req| {
            let (store, s) = (store.clone(), s.clone());
            let acquirer = &acquirer;
            async move { body(&store.transaction(&s, req, acquirer).await.unwrap()) }
        };
        let held = ask(&s, preauth(1, HOLD)).await;
        assert_eq!(held["status"], "approved", "{held}");
        let hold = hold_of(&held);
        let auth = held["auth_code"].as_str().unwrap().to_owned();
        // Completed at the other counter, voided there, completed again there.
        let done = ask(&other, completion(1, &hold, 11_500)).await;
        assert_eq!(done["status"], "approved", "{done}");
        let void = ask(&other, completion_void(2, 1, 11_500)).await;
        assert_eq!(void["status"], "approved", "{void}");
        let again = ask(&other, completion(3, &hold, 10_000)).await;
        assert_eq!(again["status"], "approved", "{again}");
        let second = hold_of(&ask(&s, preauth(2, 500)).await);
        let released = ask(&s, preauth_void(3, &second, 500)).await;
        assert_eq!(released["status"], "approved", "{released}");
        let second_auth = match &second {
            OriginalRef::Hold { auth_code, .. } => auth_code.clone(),
            _ => unreachable!(),
        };
        let done_auth = done["auth_code"].as_str().unwrap();
        let want = profile_rows(&auth, done_auth, &second_auth);
        let got: Vec<Seen> = seen(&peer)
            .into_iter()
            .filter(|(mti, ..)| mti == "0100" || mti == "0200")
            .collect();
        assert_eq!(got, want);
        // R11 with R20: the other counter's batch settles with the peer; field 48's debit counts
        // its completions less their void, as the peer's own books do.
        let b = store.current_batch(&other).await.unwrap();
        let completions = b.host_totals.completion.unwrap_or_default();
        assert_eq!((completions.count, completions.amount), (2, 21_500));
        assert_eq!(b.host_totals.net_amount, 10_000);
        let req = softpos::protocol::SettlementRequest {
            request_id: softpos::ids::RequestId::parse(&uuid::Uuid::new_v4().to_string()).unwrap(),
            batch_no: b.batch_no,
            terminal_totals: b.host_totals,
        };
        // The same peer, per request, behind the settlement's handle.
        let link: std::sync::Arc<dyn crate::acquirer::Acquirer> =
            std::sync::Arc::new(IsoAcquirer::new(peer.config(), LinkMode::PerRequest));
        let settled = body(&store.settle(&other, &req, &link).await.unwrap());
        assert_eq!(settled["outcome"], "balanced", "{settled}");
        assert_eq!(settled["acquirer_outcome"], "balanced", "{settled}");
        drop(peer);
        drop_pg(store, pg).await;
    }
}
