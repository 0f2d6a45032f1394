//! One connection to the acquirer for every exchange: requests go out as they come, answers
//! come back in any order and find their request by (terminal, trace, answer MTI). When the
//! connection is idle an echo keeps it known to be alive; when it breaks, every exchange in
//! flight fails (an unknown outcome for its caller) and the link reconnects with a growing
//! pause. An answer nobody waits for any more (its caller timed out) is logged and dropped.

use super::{encode, read_frame, write_frame, ExchangeKey, LinkConfig, LinkError};
use softpos_iso8583::{Frame, Message, Spec};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

/// The first pause before reconnecting, and the longest.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(30));

type Reply = oneshot::Sender<Result<Frame, LinkError>>;

/// Who waits for an answer: a caller, or the link's own echo.
enum Waiter {
    Caller(Reply),
    Echo,
}

impl Waiter {
    fn is_caller(&self) -> bool {
        matches!(self, Waiter::Caller(_))
    }
}

/// A request handed to the connection's task.
struct Outgoing {
    key: ExchangeKey,
    bytes: Vec<u8>,
    reply: Reply,
}

/// Makes the echo sent on an idle connection (the mapping knows its fields).
pub type EchoMessage = Box<dyn Fn() -> Message + Send + Sync>;

/// The persistent link: a handle to the task that owns the connection.
pub struct Persistent {
    spec: Arc<Spec>,
    config: LinkConfig,
    queue: mpsc::Sender<Outgoing>,
}

impl Persistent {
    /// Starts the connection's task; `echo` is sent after `idle` with nothing in flight.
    pub fn start(config: LinkConfig, idle: Duration, echo: EchoMessage) -> Persistent {
        let spec = Arc::new(Spec::unionpay());
        let (queue, requests) = mpsc::channel(256);
        let task = Task {
            spec: spec.clone(),
            config: config.clone(),
            idle,
            echo,
        };
        tokio::spawn(task.run(requests));
        Persistent {
            spec,
            config,
            queue,
        }
    }

    /// Sends `request` on the shared connection and waits for its answer.
    pub async fn exchange(&self, request: Message) -> Result<Frame, LinkError> {
        let key = ExchangeKey::of_request(&request).ok_or(LinkError::Mismatch)?;
        let bytes = encode(&self.spec, &self.config, request)?;
        let (reply, answer) = oneshot::channel();
        let out = Outgoing { key, bytes, reply };
        let wait = async {
            self.queue.send(out).await.map_err(|_| LinkError::Closed)?;
            answer.await.map_err(|_| LinkError::Closed)?
        };
        tokio::time::timeout(self.config.timeout, wait)
            .await
            .map_err(|_| LinkError::Timeout)?
    }
}

/// The task that owns the connection.
struct Task {
    spec: Arc<Spec>,
    config: LinkConfig,
    idle: Duration,
    echo: EchoMessage,
}

impl Task {
    async fn run(self, mut requests: mpsc::Receiver<Outgoing>) {
        let mut pause = BACKOFF.0;
        loop {
            let connect = TcpStream::connect(&self.config.addr);
            let stream = match tokio::time::timeout(self.config.timeout, connect).await {
                Ok(Ok(stream)) => stream,
                failed => {
                    let why = match failed {
                        Ok(Err(e)) => e.to_string(),
                        _ => "timed out".to_owned(),
                    };
                    tracing::warn!(addr = %self.config.addr, %why, ?pause, "acquirer not reachable; retrying");
                    // Requests waiting meanwhile keep their own timeout: a caller that gives up
                    // is never sent for later (see `serve`).
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(BACKOFF.1);
                    if requests.is_closed() {
                        return;
                    }
                    continue;
                }
            };
            pause = BACKOFF.0;
            let _ = stream.set_nodelay(true);
            tracing::info!(addr = %self.config.addr, "acquirer link up");
            if self.serve(stream, &mut requests).await.is_break() {
                return;
            }
        }
    }

    /// Carries exchanges on one connection until it breaks (`Continue`: reconnect) or the
    /// host closes the link (`Break`).
    async fn serve(
        &self,
        stream: TcpStream,
        requests: &mut mpsc::Receiver<Outgoing>,
    ) -> std::ops::ControlFlow<()> {
        use std::ops::ControlFlow::{Break, Continue};
        let (reader, mut writer) = stream.into_split();
        // A read cannot be cancelled halfway without losing bytes, so one task reads whole
        // frames and hands them over.
        let (answers_tx, mut answers) = mpsc::channel(64);
        let reading = tokio::spawn(read_all(self.spec.clone(), reader, answers_tx));
        let mut pending: HashMap<ExchangeKey, Waiter> = HashMap::new();
        let outcome = loop {
            tokio::select! {
                out = requests.recv() => {
                    let Some(out) = out else { break Break(()) };
                    if out.reply.is_closed() {
                        // Its caller gave up while the link was down: it counts that outcome
                        // as unknown already, so sending it now would only make a second one.
                        continue;
                    }
                    pending.retain(|_, w| !matches!(w, Waiter::Caller(r) if r.is_closed()));
                    if pending.contains_key(&out.key) {
                        let _ = out.reply.send(Err(LinkError::Mismatch));
                        continue;
                    }
                    if let Err(e) = write_frame(&mut writer, &out.bytes).await {
                        let _ = out.reply.send(Err(e));
                        break Continue(());
                    }
                    pending.insert(out.key, Waiter::Caller(out.reply));
                }
                answer = answers.recv() => {
                    let Some(Ok(frame)) = answer else { break Continue(()) };
                    deliver(&mut pending, frame);
                }
                () = tokio::time::sleep(self.idle), if !pending.values().any(Waiter::is_caller) => {
                    if let Err(e) = self.send_echo(&mut writer, &mut pending).await {
                        tracing::warn!(error = %e, "echo not sent; reconnecting");
                        break Continue(());
                    }
                }
            }
        };
        reading.abort();
        for (_, waiter) in pending.drain() {
            if let Waiter::Caller(reply) = waiter {
                let _ = reply.send(Err(LinkError::Io(
                    std::io::ErrorKind::ConnectionReset.into(),
                )));
            }
        }
        outcome
    }

    /// An echo on an idle connection; its answer is awaited like any other and dropped.
    async fn send_echo(
        &self,
        writer: &mut tokio::net::tcp::OwnedWriteHalf,
        pending: &mut HashMap<ExchangeKey, Waiter>,
    ) -> Result<(), LinkError> {
        let message = (self.echo)();
        let key = ExchangeKey::of_request(&message).ok_or(LinkError::Mismatch)?;
        let bytes = encode(&self.spec, &self.config, message)?;
        write_frame(writer, &bytes).await?;
        // An echo the acquirer never answered is not waited for twice.
        pending.retain(|_, w| w.is_caller());
        pending.insert(key, Waiter::Echo);
        Ok(())
    }
}

/// Reads frames until the connection ends or a frame cannot be read.
async fn read_all(
    spec: Arc<Spec>,
    mut reader: OwnedReadHalf,
    answers: mpsc::Sender<Result<Frame, LinkError>>,
) {
    loop {
        let frame = read_frame(&spec, &mut reader).await;
        let broken = frame.is_err();
        if let Err(e) = &frame {
            tracing::warn!(error = %e, "acquirer link broken");
        }
        if answers.send(frame).await.is_err() || broken {
            return;
        }
    }
}

/// Hands an answer to the request waiting for it; an answer nobody waits for is logged.
fn deliver(pending: &mut HashMap<ExchangeKey, Waiter>, frame: Frame) {
    let key = ExchangeKey::of_answer(&frame.message);
    match pending.remove(&key) {
        Some(Waiter::Echo) => tracing::debug!(answer = %frame.message, "echo answered"),
        Some(Waiter::Caller(reply)) => {
            tracing::debug!(answer = %frame.message, "acquirer answered");
            if let Err(Ok(late)) = reply.send(Ok(frame)) {
                tracing::warn!(answer = %late.message, "late acquirer answer dropped");
            }
        }
        None => tracing::warn!(answer = %frame.message, "unexpected acquirer answer dropped"),
    }
}
