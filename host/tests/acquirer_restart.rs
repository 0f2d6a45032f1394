//! R8 upstream and R4 with the real binary and the real acquirer peer: a host SIGKILLed while it
//! owes the acquirer a reversal sends it, once, after a restart, before the terminal's next
//! sale; and the card that reversal repeats is never in the clear in the database or in the
//! link's traffic logs (docs/rules.md, "R8 in detail", "Upstream").

mod common;
#[path = "common/peer.rs"]
mod peer;

use common::*;
use peer::{Peer, HELD_CARD};
use std::process::Command;
use std::time::{Duration, Instant};

/// Waits until `peer` has received `n` requests with this MTI.
fn wait_for(peer: &Peer, mti: &str, n: usize, within: Duration) {
    let deadline = Instant::now() + within;
    while peer.received().iter().filter(|m| *m == mti).count() < n {
        assert!(
            Instant::now() < deadline,
            "the acquirer got no {mti} within {within:?}: {:?}",
            peer.received()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The field 11 (trace) of each request with this MTI.
fn traces(peer: &Peer, mti: &str) -> Vec<String> {
    peer.requests()
        .iter()
        .filter(|(m, _)| m == mti)
        .map(|(_, fields)| fields["11"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn serve_args<'a>(peer: &'a str, key: &'a str) -> Vec<&'a str> {
    vec![
        "--acquirer",
        peer,
        "--acquirer-timeout-ms",
        "500",
        "--data-key-file",
        key,
    ]
}

#[test]
fn r4_r8_upstream_a_sigkilled_host_sends_its_owed_reversal_once_after_restart() {
    each_backend(|b| {
        let keys = tempfile::tempdir().unwrap();
        let key = keys.path().join("data.key");
        std::fs::write(&key, [7u8; 32]).unwrap();
        let key = key.to_str().unwrap();
        // An acquirer that takes reversals and never answers them.
        let quiet = Peer::start(&["--silent", "0400"]);
        let at = format!("iso8583://{}", quiet.addr);
        let mut c = Counter::with_args(b, &serve_args(&at, key));

        // The held card's answer comes after the link gave up: the terminal is told 98 and the
        // host owes the acquirer a reversal, which it tries and tries again.
        let (st, held) = c.sale(1_200, HELD_CARD);
        assert_eq!(st, 200, "{held}");
        assert_eq!(
            (held["status"].as_str(), held["response_code"].as_str()),
            (Some("declined"), Some("98")),
            "{held}"
        );
        let sale_trace = traces(&quiet, "0200")[0].clone();
        wait_for(&quiet, "0400", 1, Duration::from_secs(15));
        assert_eq!(traces(&quiet, "0400")[0], sale_trace, "the sale's reversal");

        // SIGKILL: no shutdown, no last attempt.
        let pid = c.host.pid().to_string();
        assert!(Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success());
        let mut logs = c.host.logs();
        drop(quiet);

        // Restarted against an acquirer that answers.
        let answering = Peer::start(&[]);
        let at = format!("iso8583://{}", answering.addr);
        c.host = Host::start(&c.db, &serve_args(&at, key));
        // The dead process may have been sending it: its lease (two exchanges and 5 s) ends
        // first, then the background task sends it; meanwhile the terminal hears BUSY.
        wait_for(&answering, "0400", 1, Duration::from_secs(20));
        c.resign_in();
        let (st, next) = c.sale(800, CARD);
        assert_eq!(st, 200, "{next}");
        assert_eq!(next["response_code"], "00", "{next}");
        // Time for any second attempt to show.
        std::thread::sleep(Duration::from_millis(1_500));
        let seen = answering.received();
        assert_eq!(
            traces(&answering, "0400"),
            [sale_trace],
            "once, for the held sale: {seen:?}"
        );
        let reversal = seen.iter().position(|m| m == "0400").unwrap();
        let sale = seen.iter().position(|m| m == "0200").unwrap();
        assert!(reversal < sale, "{seen:?}");
        assert_eq!(
            answering.requests()[reversal].1["2"]
                .as_str()
                .map(|p| p.len()),
            Some(HELD_CARD.len()),
            "the restarted host opened the sealed card for the 0400"
        );

        // R4: the sealed card is gone once acknowledged, and never was in the clear.
        logs.push_str(&c.host.logs());
        assert!(
            logs.contains("to the acquirer"),
            "the link's traffic is logged"
        );
        let mut haystacks = vec![("logs", logs)];
        if b == Backend::Sqlite {
            for f in std::fs::read_dir(c.db.dir.path()).unwrap() {
                let path = f.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                haystacks.push(("database", String::from_utf8_lossy(&bytes).into_owned()));
            }
        } else {
            haystacks.push(("database", c.db.pg_dump_text()));
        }
        for (name, text) in &haystacks {
            for secret in [HELD_CARD, CARD, EXPIRY, &c.key[..], &c.token[..]] {
                assert!(
                    !text.contains(secret),
                    "{name} holds a secret ({} chars)",
                    secret.len()
                );
            }
        }
    });
}
