//! R15 under load: two host processes on one PostgreSQL database, 8 terminals selling at once,
//! and a cut-off in the middle. Nothing may be lost or counted twice.

mod common;

use common::*;
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const TERMINALS: usize = 8;
const SALES: usize = 200;

#[test]
fn r15_two_hosts_one_postgres_cutoff_mid_load_loses_and_doubles_nothing() {
    if !pg_enabled() {
        eprintln!("notice: skipped, it needs PostgreSQL (SOFTPOS_TEST_DATABASE_URL)");
        return;
    }
    two_hosts_cutoff_mid_load(Backend::Postgres);
}

/// The same on one SQLite file: two processes share it through SQLite's writer lock.
#[test]
fn r15_two_hosts_one_sqlite_file_cutoff_mid_load_loses_and_doubles_nothing() {
    two_hosts_cutoff_mid_load(Backend::Sqlite);
}

fn two_hosts_cutoff_mid_load(backend: Backend) {
    let db = Db::new(backend);
    db.add_operator(MERCHANT, "01", OPERATOR_PW);
    let ids: Vec<String> = (0..TERMINALS).map(|i| format!("2000{i:04}")).collect();
    let codes: Vec<String> = ids.iter().map(|t| db.add_terminal(MERCHANT, t)).collect();
    let hosts = [Host::start(&db, &[]), Host::start(&db, &[])];
    let keys: Vec<String> = ids
        .iter()
        .zip(&codes)
        .map(|(t, c)| hosts[0].activate(MERCHANT, t, c))
        .collect();

    let done = AtomicUsize::new(0);
    let cut = Mutex::new(None::<String>);
    let results: Vec<(i64, u64, HashSet<String>)> = std::thread::scope(|s| {
        let cutter = s.spawn(|| {
            while done.load(Ordering::Relaxed) < TERMINALS * SALES / 2 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            *cut.lock().unwrap() = Some(db.cutoff());
        });
        let workers: Vec<_> = (0..TERMINALS)
            .map(|i| {
                let key = &keys[i];
                let hosts = &hosts;
                let done = &done;
                s.spawn(move || {
                    let sign_in = |h: &Host| {
                        let (st, b) = h.sign_in(key, "01", OPERATOR_PW);
                        assert_eq!(st, 200, "{b}");
                        b["session_token"].as_str().unwrap().to_owned()
                    };
                    let mut token = sign_in(&hosts[i % 2]);
                    let (mut sum, mut count, mut rrns) = (0i64, 0u64, HashSet::new());
                    for j in 0..SALES {
                        // Alternate the two hosts, as a load balancer would.
                        let host = &hosts[(i + j) % 2];
                        let amount = 100 + (i * SALES + j) as i64;
                        let body = sale_body(&rid(), j as u32 + 1, amount, CARD);
                        let (st, ans) = loop {
                            let (st, ans) = host.post("/v1/transactions", Some(&token), &body);
                            if st == 401 && code(&ans) == "SESSION_EXPIRED" {
                                // The cut-off ended the session: sign in again, send again.
                                token = sign_in(host);
                                continue;
                            }
                            break (st, ans);
                        };
                        assert_eq!(st, 200, "{ans}");
                        if ans["status"] == "approved" {
                            sum += amount;
                            count += 1;
                            assert!(rrns.insert(ans["rrn"].as_str().unwrap().to_owned()));
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    (sum, count, rrns)
                })
            })
            .collect();
        let r = workers.into_iter().map(|w| w.join().unwrap()).collect();
        cutter.join().unwrap();
        r
    });
    let cut = cut.into_inner().unwrap().unwrap();
    eprintln!("{cut}");
    assert!(
        cut.contains(&format!("{TERMINALS} batches closed")),
        "{cut}"
    );

    let mut all_rrns = HashSet::new();
    let mut closed_total = 0;
    for (i, (sum, count, rrns)) in results.iter().enumerate() {
        for r in rrns {
            assert!(all_rrns.insert(r.clone()), "RRN {r} answered twice");
        }
        assert_eq!(*count as usize, SALES, "every sale is approved");
        let host = &hosts[i % 2];
        let (st, signed) = host.sign_in(&keys[i], "01", OPERATOR_PW);
        assert_eq!(st, 200);
        let token = signed["session_token"].as_str().unwrap();
        let (mut host_sum, mut host_count) = (0i64, 0u64);
        for b in signed["closed_batches"].as_array().unwrap() {
            host_sum += b["host_totals"]["net_amount"].as_i64().unwrap();
            host_count += b["host_totals"]["sale"]["count"].as_u64().unwrap();
            closed_total += 1;
        }
        let (_, cur) = host.get("/v1/batches/current", Some(token));
        host_sum += cur["host_totals"]["net_amount"].as_i64().unwrap();
        host_count += cur["host_totals"]["sale"]["count"].as_u64().unwrap();
        assert_eq!(
            (host_sum, host_count),
            (*sum, *count),
            "terminal {i}: host totals equal the approved answers"
        );
    }
    assert!(closed_total >= 1, "the cut-off closed batches: {cut}");
    assert_eq!(
        json!(all_rrns.len()),
        json!(TERMINALS * SALES),
        "nothing counted twice"
    );
}
