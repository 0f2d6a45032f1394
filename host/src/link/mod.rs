//! The host's TCP link to its acquirer: ISO 8583 frames (the `softpos-iso8583` crate) over one
//! connection per exchange, as terminals do, or over one persistent connection that carries
//! many exchanges at once (src `persistent.rs`). Either way an exchange is a request frame out
//! and the one answer that matches it back, within the link's timeout; anything else (no
//! answer in time, a dropped connection, an answer that cannot be read or is for another
//! request) is [`LinkError`], which the acquirer's mapping treats as an unknown outcome.
//!
//! Reading is always "exactly 2 bytes, then exactly that many" (frames split across reads, or
//! written a byte at a time, come out whole). Every frame that crosses the link is logged only
//! through its masked `Display` (no PAN, expiry, keys or MAC).

mod persistent;

pub use persistent::Persistent;

use softpos_iso8583::{frame_len, DecodeError, EncodeError, Frame, Message, Spec};
use std::fmt;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How the host reaches its acquirer (`serve --acquirer iso8583://HOST:PORT` and the
/// `--acquirer-*` options).
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// `HOST:PORT` of the acquirer's POS front-end.
    pub addr: String,
    /// The TPDU every request carries (the answer swaps its addresses).
    pub tpdu: [u8; 5],
    /// The header every request carries (the answer echoes it).
    pub header: [u8; 6],
    /// How long an exchange may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

/// Why an exchange has no answer the host can use: for a financial message, an unknown outcome.
#[derive(Debug)]
pub enum LinkError {
    /// Nothing came back in time.
    Timeout,
    /// The connection could not be made, or broke.
    Io(std::io::Error),
    /// The request could not be written (a bug in the mapping, never the acquirer's doing).
    Encode(EncodeError),
    /// The answer could not be read.
    Decode(DecodeError),
    /// An answer came that is not this request's (another MTI, trace or terminal).
    Mismatch,
    /// The persistent link is closed (the host is shutting down).
    Closed,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Timeout => f.write_str("no answer in time"),
            LinkError::Io(e) => write!(f, "connection: {e}"),
            LinkError::Encode(e) => write!(f, "request not written: {e}"),
            LinkError::Decode(e) => write!(f, "answer not read: {e}"),
            LinkError::Mismatch => f.write_str("an answer for another request"),
            LinkError::Closed => f.write_str("the link is closed"),
        }
    }
}

impl std::error::Error for LinkError {}

impl From<std::io::Error> for LinkError {
    fn from(e: std::io::Error) -> Self {
        LinkError::Io(e)
    }
}

/// What matches an answer to its request on a shared connection: the terminal (41), the
/// trace (11) and the answer's MTI (the request's with its last-but-one digit raised).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExchangeKey {
    terminal: String,
    trace: String,
    answer_mti: u16,
}

impl ExchangeKey {
    /// The key of the answer `request` waits for; `None` for a message that is itself an
    /// answer.
    pub fn of_request(request: &Message) -> Option<ExchangeKey> {
        Some(ExchangeKey {
            terminal: request.text(41).unwrap_or_default().to_owned(),
            trace: request.text(11).unwrap_or_default().to_owned(),
            answer_mti: request.mti.response()?.value(),
        })
    }

    /// The key an answer carries.
    pub fn of_answer(answer: &Message) -> ExchangeKey {
        ExchangeKey {
            terminal: answer.text(41).unwrap_or_default().to_owned(),
            trace: answer.text(11).unwrap_or_default().to_owned(),
            answer_mti: answer.mti.value(),
        }
    }
}

/// A connection per exchange: connect, write, read the answer, close.
pub struct PerRequest {
    spec: Spec,
    config: LinkConfig,
}

impl PerRequest {
    /// A link with the default dialect's table.
    pub fn new(config: LinkConfig) -> Self {
        PerRequest {
            spec: Spec::unionpay(),
            config,
        }
    }

    /// One exchange on a connection of its own.
    pub async fn exchange(&self, request: Message) -> Result<Frame, LinkError> {
        let key = ExchangeKey::of_request(&request).ok_or(LinkError::Mismatch)?;
        let bytes = encode(&self.spec, &self.config, request)?;
        let exchange = async {
            let mut stream = TcpStream::connect(&self.config.addr).await?;
            stream.set_nodelay(true)?;
            stream.write_all(&bytes).await?;
            let answer = read_frame(&self.spec, &mut stream).await?;
            Ok::<_, LinkError>(answer)
        };
        let answer = tokio::time::timeout(self.config.timeout, exchange)
            .await
            .map_err(|_| LinkError::Timeout)??;
        tracing::debug!(answer = %answer.message, "acquirer answered");
        if ExchangeKey::of_answer(&answer.message) != key {
            tracing::warn!(answer = %answer.message, "acquirer answered another request; dropped");
            return Err(LinkError::Mismatch);
        }
        Ok(answer)
    }
}

/// The request as a frame on the wire, logged masked.
fn encode(spec: &Spec, config: &LinkConfig, message: Message) -> Result<Vec<u8>, LinkError> {
    tracing::debug!(request = %message, "to the acquirer");
    let frame = Frame {
        tpdu: config.tpdu,
        header: config.header,
        message,
    };
    spec.encode(&frame).map_err(LinkError::Encode)
}

/// Reads one frame: exactly 2 bytes of length, then exactly that many.
pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    spec: &Spec,
    reader: &mut R,
) -> Result<Frame, LinkError> {
    let mut prefix = [0u8; 2];
    reader.read_exact(&mut prefix).await?;
    let mut bytes = vec![0u8; 2 + frame_len(prefix)];
    bytes[..2].copy_from_slice(&prefix);
    reader.read_exact(&mut bytes[2..]).await?;
    spec.decode(&bytes).map_err(LinkError::Decode)
}

/// Writes one whole frame.
pub(crate) async fn write_frame<W: AsyncWrite + Unpin>(
    writer: &mut W,
    bytes: &[u8],
) -> Result<(), LinkError> {
    writer.write_all(bytes).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod tests;
