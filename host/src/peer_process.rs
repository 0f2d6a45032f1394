//! The acquirer peer nobody on the host's side wrote (tests/acquirer/peer.py on pyiso8583), as
//! a process for the host's tests: started on a free loopback port from `target/acquirer-venv`
//! (which `make test` makes with `scripts/tools.sh acquirer`), stopped by its PID.

use crate::link::LinkConfig;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the peer holds the held-back card's answer: longer than the link waits.
pub(crate) const HOLD_MS: u64 = 1500;
/// The peer's time zone: the one the tests' hosts keep.
pub(crate) const PEER_TIME_ZONE: &str = "Asia/Shanghai";

/// Today on the peer's wall clock, `YYYY-MM-DD`.
pub(crate) fn peer_today() -> String {
    let tz = jiff::tz::TimeZone::get(PEER_TIME_ZONE).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::now().to_zoned(tz).date().to_string()
}

/// How long the tests' link waits for an answer.
pub(crate) const WAIT: Duration = Duration::from_millis(700);

/// The peer process, stopped by its PID when dropped.
pub(crate) struct Peer {
    child: Child,
    pub(crate) addr: String,
    journal: PathBuf,
}

impl Peer {
    pub(crate) fn start(extra: &[&str]) -> Peer {
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

    pub(crate) fn config(&self) -> LinkConfig {
        LinkConfig {
            addr: self.addr.clone(),
            tpdu: [0x60, 0x00, 0x03, 0x00, 0x00],
            header: [0x60, 0x31, 0x00, 0x00, 0x00, 0x00],
            timeout: WAIT,
        }
    }
}

impl Peer {
    /// The MTIs the peer received, in order (its journal's `in` lines).
    pub(crate) fn received(&self) -> Vec<String> {
        self.requests().into_iter().map(|(mti, _)| mti).collect()
    }

    /// The requests the peer received, in order: MTI and fields (card number masked), as its
    /// journal has them.
    pub(crate) fn requests(&self) -> Vec<(String, serde_json::Value)> {
        let text = std::fs::read_to_string(&self.journal).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["dir"] == "in")
            .filter_map(|v| Some((v["mti"].as_str()?.to_owned(), v["fields"].clone())))
            .collect()
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
