//! The acquirer over ISO 8583: each request the host forwards goes out as the default
//! profile's message (`messages`) on the TCP link (src/link/), and its answer comes back as an
//! [`Answer`]. No answer in time, a broken connection, an answer that cannot be read or is
//! another request's, `94` and `98` are all [`Answer::Unknown`]: the ledger declines with `98`
//! and the outcome is reversed upstream.
//!
//! The acquirer can ask a terminal to sign in again (the header's processing requirement `3`):
//! the next message for that terminal is then preceded by a sign-in (0800) on the terminal's
//! behalf, with the operator who last signed in on it. So does `A0` (the acquirer found the
//! MAC wrong: fresh keys are needed).
//!
//! With `--acquirer-mac x919` (`mac`) every message but network management (sign-in, sign-off,
//! echo) carries field 64 under the terminal's working key, which each sign-in answer brings in
//! field 62 under the terminal master key. A terminal without one (never signed in, or the host
//! restarted) is signed in first. An answer whose MAC is wrong, or an approval without one, is
//! no answer: the outcome is unknown.

mod mac;
mod messages;

pub use mac::{DesKey, MacMode};

use super::{host_trace, Acquirer, Answer, AnswerFuture, Management, Request, Terminal};
use crate::link::{LinkConfig, LinkError, PerRequest, Persistent};
use mac::MAC_FIELD;
use softpos::ids::BatchNo;
use softpos_iso8583::{processing_requirement, Frame, Message, Spec, SIGN_IN_AGAIN};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

/// How the link carries exchanges (`--acquirer-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LinkMode {
    /// A TCP connection per exchange, as terminals do.
    PerRequest,
    /// One connection for every exchange, an echo when idle.
    Persistent,
}

/// An idle persistent link sends an echo this often.
const ECHO_EVERY: Duration = Duration::from_secs(30);

enum Transport {
    // The codec's table is large; the persistent link keeps its own behind an Arc.
    PerRequest(Box<PerRequest>),
    Persistent(Persistent),
}

/// What the host knows of each terminal on the acquirer's side.
#[derive(Default)]
struct Sessions {
    /// The operator who last signed in, by terminal id: a sign-in the acquirer asks for is made
    /// in their name.
    operators: HashMap<String, String>,
    /// Terminals the acquirer asked to sign in again.
    sign_in_again: HashSet<String>,
    /// The working MAC key of each terminal, from its last sign-in (MAC on): in memory only.
    keys: HashMap<String, DesKey>,
}

/// What the MAC needs: the master key the working keys come under, and the table that gives
/// the bytes a MAC covers.
struct MacSetup {
    tmk: DesKey,
    spec: Box<Spec>,
}

/// The ISO 8583 acquirer.
pub struct IsoAcquirer {
    transport: Transport,
    sessions: Mutex<Sessions>,
    mac: Option<MacSetup>,
}

impl IsoAcquirer {
    /// An acquirer at `config.addr`, reached in `mode`.
    pub fn new(config: LinkConfig, mode: LinkMode) -> IsoAcquirer {
        let transport = match mode {
            LinkMode::PerRequest => Transport::PerRequest(Box::new(PerRequest::new(config))),
            LinkMode::Persistent => {
                let echo = Box::new(|| messages::echo(host_trace().get()));
                Transport::Persistent(Persistent::start(config, ECHO_EVERY, echo))
            }
        };
        IsoAcquirer {
            transport,
            sessions: Mutex::new(Sessions::default()),
            mac: None,
        }
    }

    /// The same acquirer with X9.19 MACs, its working keys coming under `tmk`.
    #[must_use]
    pub fn with_mac(mut self, tmk: DesKey) -> IsoAcquirer {
        self.mac = Some(MacSetup {
            tmk,
            spec: Box::new(Spec::unionpay()),
        });
        self
    }

    async fn exchange(&self, message: Message) -> Result<Frame, LinkError> {
        match &self.transport {
            Transport::PerRequest(l) => l.exchange(message).await,
            Transport::Persistent(l) => l.exchange(message).await,
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        // A panic elsewhere while holding it cannot leave these maps half-written.
        self.sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One request out, its answer back.
    async fn send(&self, request: &Request) -> Answer {
        let (message, key) = match self.outgoing(request) {
            Ok(m) => m,
            Err(why) => {
                tracing::error!(why = %why.0, "a request the acquirer's profile cannot carry");
                return Answer::Unknown;
            }
        };
        let frame = match self.exchange(message).await {
            Ok(frame) => frame,
            Err(e) => {
                tracing::warn!(error = %e, "no answer from the acquirer");
                return Answer::Unknown;
            }
        };
        if !self.authentic(key.as_ref(), &frame.message) {
            return Answer::Unknown;
        }
        let answer = messages::answer(request, &frame.message);
        self.learn(request, &frame, &answer);
        answer
    }

    /// The message for `request`, with its MAC when the MAC is on, and the key that made it.
    fn outgoing(
        &self,
        request: &Request,
    ) -> Result<(Message, Option<DesKey>), messages::Unwritable> {
        let message = messages::message(request)?;
        let (Some(mac), Some(terminal)) = (&self.mac, terminal_of(request)) else {
            return Ok((message, None));
        };
        if !carries_mac(request) {
            return Ok((message, None));
        }
        let key = self.sessions().keys.get(&terminal.terminal_id).cloned();
        let key = key.ok_or_else(|| {
            messages::Unwritable(format!(
                "no MAC key for terminal {}: its sign-in brought none",
                terminal.terminal_id
            ))
        })?;
        let signed = mac::signed(&mac.spec, &key, message)
            .ok_or_else(|| messages::Unwritable("the message cannot be MACed".into()))?;
        Ok((signed, Some(key)))
    }

    /// Whether the answer to a request MACed with `key` is the acquirer's: its MAC verifies,
    /// or it has none and approves nothing (the acquirer may leave it off a decline, `A0` above
    /// all, when it could not check ours).
    fn authentic(&self, key: Option<&DesKey>, reply: &Message) -> bool {
        let (Some(mac), Some(key)) = (&self.mac, key) else {
            return true;
        };
        let terminal = reply.text(41).unwrap_or_default();
        if reply.fields.contains_key(&MAC_FIELD) {
            let ok = mac::verifies(&mac.spec, key, reply);
            if !ok {
                tracing::warn!(%terminal, answer = %reply, "an answer whose MAC is wrong: taken as no answer");
            }
            return ok;
        }
        let approves = reply.text(39) == Some("00");
        if approves {
            tracing::warn!(%terminal, answer = %reply, "an approval without a MAC: taken as no answer");
        }
        !approves
    }

    /// What an answer tells about the terminal's standing with the acquirer.
    fn learn(&self, request: &Request, frame: &Frame, answer: &Answer) {
        let Some(terminal) = terminal_of(request) else {
            return;
        };
        let id = &terminal.terminal_id;
        let mut sessions = self.sessions();
        if let (Request::SignIn(m), true) = (request, answer.approved()) {
            sessions.sign_in_again.remove(id);
            if let Some(op) = &m.operator {
                sessions.operators.insert(id.clone(), op.clone());
            }
            if let Some(mac) = &self.mac {
                match mac::working_key(&mac.tmk, &frame.message) {
                    Ok(key) => {
                        sessions.keys.insert(id.clone(), key);
                    }
                    Err(e) => {
                        tracing::error!(terminal = %id, error = %e, "no MAC key from the sign-in");
                        sessions.keys.remove(id);
                    }
                }
            }
        }
        let mac_refused = matches!(answer, Answer::Answered { code, .. } if code == "A0");
        if mac_refused {
            tracing::warn!(terminal = %id, "the acquirer found the MAC wrong (A0): signing in again for fresh keys");
            sessions.keys.remove(id);
        }
        if mac_refused || processing_requirement(&frame.header) == SIGN_IN_AGAIN {
            tracing::info!(terminal = %id, "the acquirer asks for a sign-in");
            sessions.sign_in_again.insert(id.clone());
        }
        if let Answer::Answered { code, .. } = answer {
            if code == "97" || code == "03" {
                tracing::error!(terminal = %id, %code, "ALARM: the acquirer does not know this terminal or merchant");
            }
        }
    }

    /// The sign-in the acquirer asked for, before the terminal's next message.
    async fn sign_in_if_asked(&self, request: &Request) {
        if matches!(request, Request::SignIn(_)) {
            return;
        }
        let asked = terminal_of(request).and_then(|t| {
            let sessions = self.sessions();
            let keyless = self.mac.is_some()
                && carries_mac(request)
                && !sessions.keys.contains_key(&t.terminal_id);
            if !keyless && !sessions.sign_in_again.contains(&t.terminal_id) {
                return None;
            }
            let terminal = t.clone();
            let operator = sessions.operators.get(&t.terminal_id).cloned();
            Some((terminal, operator))
        });
        let Some((terminal, operator)) = asked else {
            return;
        };
        let batch = batch_of(request);
        let sign_in = Request::SignIn(Management {
            terminal,
            trace: host_trace(),
            batch,
            operator: Some(operator.unwrap_or_else(|| "01".into())),
        });
        let answer = self.send(&sign_in).await;
        if !answer.approved() {
            tracing::warn!("the sign-in before this message was not approved");
            return;
        }
        // The message goes with its batch as it is: a batch number is adopted only at an
        // operator's sign-in, before the batch carries anything (docs/architecture.md, "Batch
        // numbers upstream").
        if let Answer::Answered {
            batch: Some(assigned),
            ..
        } = answer
        {
            if batch.is_some_and(|b| b != assigned) {
                tracing::warn!(
                    assigned = assigned.get(),
                    kept = batch.map(|b| b.get()),
                    "a sign-in the acquirer asked for assigns another batch number; not adopted"
                );
            }
        }
    }
}

/// Whether this request carries a MAC when the MAC is on: all but network management.
fn carries_mac(request: &Request) -> bool {
    !matches!(
        request,
        Request::SignIn(_) | Request::SignOff(_) | Request::Echo(_)
    )
}

/// The batch a request is of, as the acquirer knows it.
fn batch_of(request: &Request) -> Option<BatchNo> {
    match request {
        Request::SignIn(m) | Request::SignOff(m) | Request::Echo(m) => m.batch,
        Request::Sale(_) | Request::Preauth(_) | Request::Completion(_) => {
            request.with_card().map(|s| s.batch)
        }
        Request::Void(u)
        | Request::Refund(u)
        | Request::PreauthVoid(u)
        | Request::CompletionVoid(u) => Some(u.batch),
        Request::Reversal(r) => batch_of(&r.original),
        Request::Settlement(s) => Some(s.batch),
        Request::BatchUpload(b) => Some(b.batch),
    }
}

/// The terminal a request is for.
fn terminal_of(request: &Request) -> Option<&Terminal> {
    Some(match request {
        Request::SignIn(m) | Request::SignOff(m) | Request::Echo(m) => &m.terminal,
        Request::Sale(_) | Request::Preauth(_) | Request::Completion(_) => {
            return request.with_card().map(|s| &s.terminal)
        }
        Request::Void(u)
        | Request::Refund(u)
        | Request::PreauthVoid(u)
        | Request::CompletionVoid(u) => &u.terminal,
        Request::Reversal(r) => return terminal_of(&r.original),
        Request::Settlement(s) => &s.terminal,
        Request::BatchUpload(b) => &b.terminal,
    })
}

impl Acquirer for IsoAcquirer {
    fn ask(&self, request: Request) -> AnswerFuture<'_> {
        Box::pin(async move {
            self.sign_in_if_asked(&request).await;
            self.send(&request).await
        })
    }
}

#[cfg(test)]
mod tests;
