//! The acquirer peer nobody on the host's side wrote (tests/acquirer/peer.py on pyiso8583), as
//! a process for the host's tests: started on a free loopback port from `target/acquirer-venv`
//! (which `make test` makes with `scripts/tools.sh acquirer`), stopped by its PID. Shared by the
//! host's unit tests (`src/peer_process.rs`) and the tests of the real binary (`tests/`).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// How long the peer holds the held-back card's answer: longer than the link waits.
pub const HOLD_MS: u64 = 1500;
/// The peer's time zone: the one the tests' hosts keep.
pub const PEER_TIME_ZONE: &str = "Asia/Shanghai";
/// The card whose answer the peer holds back `HOLD_MS` (tests/acquirer/ledger.py).
pub const HELD_CARD: &str = "4000000000003220";

/// Today on the peer's wall clock, `YYYY-MM-DD`.
pub fn peer_today() -> String {
    let tz = jiff::tz::TimeZone::get(PEER_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(tz).date().to_string()
}

/// The peer process, stopped by its PID when dropped.
pub struct Peer {
    child: Child,
    pub addr: String,
    journal: PathBuf,
}

impl Peer {
    pub fn start(extra: &[&str]) -> Peer {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let python = root.join("target/acquirer-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `scripts/tools.sh acquirer` (make test does)",
            python.display()
        );
        static RUN: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let journal =
            std::env::temp_dir().join(format!("softpos-peer-{}-{n}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&journal);
        let mut child = Command::new(python)
            .arg(root.join("tests/acquirer/peer.py"))
            .args(["--listen", "127.0.0.1:0", "--hold-ms", &HOLD_MS.to_string()])
            .arg("--journal")
            .arg(&journal)
            .args(extra)
            // The acquirer keeps the host's wall clock (the dates of 13, 15 and 61.3 agree).
            .env("TZ", PEER_TIME_ZONE)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the peer starts");
        let stdout = child.stdout.take().expect("its stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the peer says where it listens");
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the peer: {line:?}"))
            .to_owned();
        Peer {
            child,
            addr,
            journal,
        }
    }

    /// The requests the peer received, in order: MTI and fields (card number masked), as its
    /// journal has them.
    pub fn requests(&self) -> Vec<(String, serde_json::Value)> {
        let text = std::fs::read_to_string(&self.journal).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["dir"] == "in")
            .filter_map(|v| Some((v["mti"].as_str()?.to_owned(), v["fields"].clone())))
            .collect()
    }

    /// The MTIs the peer received, in order.
    pub fn received(&self) -> Vec<String> {
        self.requests().into_iter().map(|(mti, _)| mti).collect()
    }

    /// Everything the peer journaled, one JSON line each.
    pub fn journal(&self) -> String {
        std::fs::read_to_string(&self.journal).unwrap_or_default()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Stopped by its own PID, never by name.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.journal);
    }
}
