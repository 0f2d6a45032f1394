//! How long a client may take: a request's headers must arrive within the header timeout
//! (10 s), and a keep-alive connection waiting for its next request closes after the idle
//! timeout (60 s). See docs/host-limits.md.
//!
//! hyper has one knob for both, `header_read_timeout`, whose timer also runs while a
//! keep-alive connection waits for its next request, so it cannot give slow headers 10 s and
//! an idle connection 60 s. The accepted socket is wrapped instead: the wrapper watches the
//! bytes go by, knows whether a request's head is being received (from its first byte to the
//! blank line that ends it) or the connection is idle, and fails the pending read once that
//! phase's deadline passes, which makes hyper drop the connection.

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// The deadlines of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From a request's first byte (a fresh connection's accept) to the end of its headers.
    pub header: Duration,
    /// From the end of an answer to the first byte of the next request.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header: Duration::from_secs(10),
            idle: Duration::from_secs(60),
        }
    }
}

/// A TCP listener whose connections keep [`Timeouts`].
#[derive(Debug)]
pub struct TimedListener {
    inner: TcpListener,
    timeouts: Timeouts,
}

impl TimedListener {
    /// Wraps a bound listener.
    pub fn new(inner: TcpListener, timeouts: Timeouts) -> Self {
        TimedListener { inner, timeouts }
    }
}

impl Listener for TimedListener {
    type Io = TimedIo<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = Listener::accept(&mut self.inner).await;
        (TimedIo::new(stream, self.timeouts), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// The address a request came from (the TCP peer: behind a proxy, the proxy's), for the
/// rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub SocketAddr);

impl Connected<IncomingStream<'_, TimedListener>> for ClientAddr {
    fn connect_info(stream: IncomingStream<'_, TimedListener>) -> Self {
        ClientAddr(*stream.remote_addr())
    }
}

/// Where a connection is between requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the first byte of the next request.
    Idle,
    /// Receiving a request's head: `lines` complete lines so far, the current one empty or
    /// not.
    Head { lines: u32, line_has_text: bool },
    /// The head is complete: the body, the handler and the answer take their time.
    Busy,
}

/// A socket with the deadlines of [`Timeouts`].
#[derive(Debug)]
pub struct TimedIo<T> {
    io: T,
    timeouts: Timeouts,
    phase: Phase,
    deadline: Pin<Box<Sleep>>,
    /// The task waiting to read: woken when an answer goes out, so that its wait for the next
    /// request runs against the idle deadline (it was parked on the socket alone).
    reader: Option<Waker>,
}

impl<T> TimedIo<T> {
    fn new(io: T, timeouts: Timeouts) -> Self {
        // A client connects to send a request: its head is due within the header timeout.
        TimedIo {
            io,
            timeouts,
            phase: Phase::Head {
                lines: 0,
                line_has_text: false,
            },
            deadline: Box::pin(tokio::time::sleep(timeouts.header)),
            reader: None,
        }
    }

    /// Follows the bytes of a request's head until the blank line that ends it.
    fn received(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let (lines, line_has_text) = match self.phase {
                Phase::Busy => return,
                Phase::Idle => {
                    self.deadline
                        .as_mut()
                        .reset(Instant::now() + self.timeouts.header);
                    (0, false)
                }
                Phase::Head {
                    lines,
                    line_has_text,
                } => (lines, line_has_text),
            };
            self.phase = match b {
                // Blank lines before the request line are allowed (RFC 9112 section 2.2).
                b'\n' if !line_has_text && lines > 0 => Phase::Busy,
                b'\n' if !line_has_text => Phase::Head {
                    lines,
                    line_has_text: false,
                },
                b'\n' => Phase::Head {
                    lines: lines.saturating_add(1),
                    line_has_text: false,
                },
                b'\r' => Phase::Head {
                    lines,
                    line_has_text,
                },
                _ => Phase::Head {
                    lines,
                    line_has_text: true,
                },
            };
        }
    }

    /// Bytes of an answer went out: the request is answered, and the connection idles
    /// until the next one.
    fn sent(&mut self) {
        let was = std::mem::replace(&mut self.phase, Phase::Idle);
        self.deadline
            .as_mut()
            .reset(Instant::now() + self.timeouts.idle);
        if was == Phase::Busy {
            if let Some(reader) = self.reader.take() {
                reader.wake();
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for TimedIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.received(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending if this.phase == Phase::Busy => {
                if !this
                    .reader
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    this.reader = Some(cx.waker().clone());
                }
                Poll::Pending
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    let what = if this.phase == Phase::Idle {
                        "an idle connection timed out"
                    } else {
                        "the request's headers timed out"
                    };
                    tracing::debug!(what, "connection closed");
                    Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for TimedIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.sent();
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.sent();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head_of(bytes: &[u8]) -> Phase {
        let mut io = TimedIo::new((), Timeouts::default());
        io.received(bytes);
        io.phase
    }

    #[tokio::test]
    async fn r17_a_head_ends_at_its_blank_line_whatever_the_line_ends() {
        assert_eq!(head_of(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"), Phase::Busy);
        assert_eq!(head_of(b"GET / HTTP/1.1\nHost: a\n\n"), Phase::Busy);
        assert_eq!(head_of(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n"), Phase::Busy);
        assert!(matches!(
            head_of(b"GET / HTTP/1.1\r\nHost: a\r\n"),
            Phase::Head { .. }
        ));
        assert!(matches!(head_of(b"\r\n\r\n"), Phase::Head { .. }));
        assert!(matches!(head_of(b"GET / HT"), Phase::Head { .. }));
    }
}
