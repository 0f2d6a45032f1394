//! R8 upstream across a restart: the jobs owed to the acquirer are in the database, so a new
//! host process sends them, once each; also the job of a sale whose process died while the
//! acquirer was deciding.

use super::tests::{drop_pg, sale, stores, CARD};
use super::tests_forward::{approved, ask, forward_all, jobs, keyed, Scripted};
use super::*;
use crate::acquirer::{Answer as Upstream, Request};
use crate::forward::Forwarding;
use crate::store::CutoffClock;
use std::path::Path;
use std::time::Duration;

/// The store's database opened again, as a restarted host would.
pub(super) async fn reopen(store: Store, dir: &Path, drop: Option<&str>) -> Store {
    store.close().await;
    let url = match drop.and_then(|d| d.split_once('|')) {
        Some((admin, name)) => format!("{}/{name}", admin.rsplit_once('/').unwrap().0),
        None => format!("sqlite://{}", dir.join("host.db").display()),
    };
    let store = Store::open(&url, &CutoffClock::default_clock())
        .await
        .unwrap();
    keyed(store, dir)
}

#[tokio::test]
async fn r8_upstream_a_restarted_host_sends_an_owed_reversal_once() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        let store = keyed(store, dir.path());
        let before = Scripted::new([Upstream::Unknown]);
        ask(&store, &s, &before, sale(1, CARD)).await;
        let store = reopen(store, dir.path(), drop.as_deref()).await;
        let after = Scripted::new([]);
        forward_all(&store, after.clone()).await;
        assert_eq!(after.log(), ["reversal 98 of sale 1"], "once");
        let Request::Reversal(rev) = &after.asked()[0] else {
            panic!()
        };
        let Request::Sale(original) = rev.original.as_ref() else {
            panic!()
        };
        assert_eq!(
            original.pan.digits(),
            CARD,
            "opened with the key from the file"
        );
        // The next sale finds nothing owed.
        assert_eq!(ask(&store, &s, &after, sale(2, CARD)).await, approved());
        assert_eq!(after.log(), ["reversal 98 of sale 1", "sale 2"]);
        drop_pg(store, drop).await;
    }
}

#[tokio::test]
async fn r8_upstream_a_host_that_died_while_the_acquirer_was_deciding_reverses_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    for (store, s, drop) in stores(dir.path()).await {
        // A hold long enough for a loaded machine to reopen the database within it.
        let hold = Duration::from_secs(2);
        let keyed_store = keyed(store, dir.path());
        let forwarding = Forwarding {
            armed_for: hold,
            ..keyed_store.forwarding().clone()
        };
        let store = keyed_store.with_forwarding(forwarding);
        // An acquirer that never answers in time, and a host that dies meanwhile.
        let slow = Scripted::slow(Duration::from_secs(3600));
        let inside = {
            let (store, s, a) = (store.clone(), s.clone(), slow.clone());
            tokio::spawn(async move { store.transaction(&s, sale(1, CARD), a.as_ref()).await })
        };
        slow.until_asked().await;
        let armed = std::time::Instant::now();
        inside.abort();
        let owed = jobs(&store).await;
        assert_eq!(
            owed.len(),
            1,
            "queued with the pending sale, held by its process"
        );
        let store = reopen(store, dir.path(), drop.as_deref()).await;
        let after = Scripted::new([]);
        // Held while the dead process might still have been waiting for the acquirer.
        assert_eq!(store.forward_due(after.as_ref()).await.unwrap(), 0);
        assert!(armed.elapsed() < hold, "the machine was too slow to tell");
        tokio::time::sleep(hold).await;
        forward_all(&store, after.clone()).await;
        assert_eq!(after.log(), ["reversal 98 of sale 1"], "once");
        assert_eq!(slow.log(), ["sale 1"], "the dead process asked once");
        drop_pg(store, drop).await;
    }
}
