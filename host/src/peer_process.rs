//! The acquirer peer (tests/acquirer/peer.py on pyiso8583) for the host's unit tests: the
//! process itself is shared with the tests of the real binary (`tests/common/peer.rs`); here it
//! gains the link settings that reach it.

#[path = "../tests/common/peer.rs"]
mod process;

use crate::link::LinkConfig;
pub(crate) use process::{peer_today, Peer, HOLD_MS};
use std::time::Duration;

/// How long the tests' link waits for an answer.
pub(crate) const WAIT: Duration = Duration::from_millis(700);

impl Peer {
    pub(crate) fn config(&self) -> LinkConfig {
        LinkConfig {
            addr: self.addr.clone(),
            tpdu: [0x60, 0x00, 0x03, 0x00, 0x00],
            header: [0x60, 0x31, 0x00, 0x00, 0x00, 0x00],
            timeout: WAIT,
        }
    }
}
