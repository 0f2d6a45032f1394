//! The acquirer over ISO 8583: each request the host forwards goes out as the default
//! profile's message (`messages`) on the TCP link (src/link/), and its answer comes back as an
//! [`Answer`]. No answer in time, a broken connection, an answer that cannot be read or is
//! another request's, `94` and `98` are all [`Answer::Unknown`]: the ledger declines with `98`
//! and the outcome is reversed upstream.
//!
//! The acquirer can ask a terminal to sign in again (the header's processing requirement `3`):
//! the next message for that terminal is then preceded by a sign-in (0800) on the terminal's
//! behalf, with the operator who last signed in on it.

mod messages;

use super::{host_trace, Acquirer, Answer, AnswerFuture, Management, Request, Terminal};
use crate::link::{LinkConfig, LinkError, PerRequest, Persistent};
use softpos_iso8583::{processing_requirement, Frame, Message, SIGN_IN_AGAIN};
use std::collections::HashMap;
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
    sign_in_again: HashMap<String, Terminal>,
}

/// The ISO 8583 acquirer.
pub struct IsoAcquirer {
    transport: Transport,
    sessions: Mutex<Sessions>,
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
        }
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
        let message = match messages::message(request) {
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
        let answer = messages::answer(request, &frame.message);
        self.learn(request, &frame, &answer);
        answer
    }

    /// What an answer tells about the terminal's standing with the acquirer.
    fn learn(&self, request: &Request, frame: &Frame, answer: &Answer) {
        let Some(terminal) = terminal_of(request) else {
            return;
        };
        let mut sessions = self.sessions();
        if let (Request::SignIn(m), true) = (request, answer.approved()) {
            sessions.sign_in_again.remove(&terminal.terminal_id);
            if let Some(op) = &m.operator {
                sessions
                    .operators
                    .insert(terminal.terminal_id.clone(), op.clone());
            }
        }
        if processing_requirement(&frame.header) == SIGN_IN_AGAIN {
            tracing::info!(terminal = %terminal.terminal_id, "the acquirer asks for a sign-in");
            sessions
                .sign_in_again
                .insert(terminal.terminal_id.clone(), terminal.clone());
        }
        if let Answer::Answered { code, .. } = answer {
            if code == "97" || code == "03" {
                tracing::error!(terminal = %terminal.terminal_id, %code, "ALARM: the acquirer does not know this terminal or merchant");
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
            let terminal = sessions.sign_in_again.get(&t.terminal_id)?.clone();
            let operator = sessions.operators.get(&t.terminal_id).cloned();
            Some((terminal, operator))
        });
        let Some((terminal, operator)) = asked else {
            return;
        };
        let sign_in = Request::SignIn(Management {
            terminal,
            trace: host_trace(),
            batch: None,
            operator: Some(operator.unwrap_or_else(|| "01".into())),
        });
        if !self.send(&sign_in).await.approved() {
            tracing::warn!("the sign-in the acquirer asked for was not approved");
        }
    }
}

/// The terminal a request is for.
fn terminal_of(request: &Request) -> Option<&Terminal> {
    Some(match request {
        Request::SignIn(m) | Request::SignOff(m) | Request::Echo(m) => &m.terminal,
        Request::Sale(s) => &s.terminal,
        Request::Void(u) | Request::Refund(u) => &u.terminal,
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
