//! [`TcpListener`] and [`TcpStream`].

use std::fmt;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::Stream as FuturesStream;
use rustix::net::{AddressFamily, SocketFlags, SocketType};

use super::addr::{context, resolve, ToSocketAddrs};
use super::stream::{finish_connect, impl_stream_traits, Stream};
use crate::Async;

/// A TCP socket listening for connections (asyncio's `start_server`).
///
/// ```
/// use eddy_io::net::{TcpListener, TcpStream};
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
///
/// eddy_io::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let mut client = TcpStream::connect(addr).await?;
///     let (mut server, _peer) = listener.accept().await?;
///     client.write_all(b"hello").await?;
///     let mut buf = [0; 5];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hello");
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct TcpListener {
    io: Async<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (`"127.0.0.1:8080"`, a `SocketAddr`, …), trying each resolved address in
    /// turn. Port 0 picks a free port; [`local_addr`](Self::local_addr) tells which.
    ///
    /// # Errors
    ///
    /// Fails if the name does not resolve or no address can be bound (in use, not permitted);
    /// the error names the address.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let mut last = None;
        for addr in resolve(&addr).await? {
            match std::net::TcpListener::bind(addr).and_then(TcpListener::try_from) {
                Ok(listener) => return Ok(listener),
                Err(e) => last = Some(context(e, format_args!("bind to {addr}"))),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// # Errors
    ///
    /// Fails for this call only, for example when the process is out of file descriptors
    /// (`EMFILE`); the listener stays usable and later calls succeed once resources are back.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = match self.io.poll_read_with(cx, |l| l.accept()) {
            Poll::Ready(result) => result,
            Poll::Pending => return Poll::Pending,
        };
        Poll::Ready(
            accepted
                .and_then(|(stream, peer)| Ok((TcpStream::try_from(stream)?, peer)))
                .map_err(|e| context(e, format_args!("accept on {}", self.describe()))),
        )
    }

    /// A stream of incoming connections; each item is what [`accept`](Self::accept) returns,
    /// without the address.
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The std listener inside (non-blocking).
    pub fn get_ref(&self) -> &std::net::TcpListener {
        self.io.get_ref()
    }

    fn describe(&self) -> String {
        self.local_addr().map_or_else(|_| "a TCP listener".to_owned(), |a| a.to_string())
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// Registers a std listener (made non-blocking) with the reactor.
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener { io: Async::new(listener)? })
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener").field("local_addr", &self.local_addr().ok()).finish()
    }
}

/// The stream of connections returned by [`TcpListener::incoming`]; it never ends.
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl FuturesStream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener.poll_accept(cx).map(|r| Some(r.map(|(stream, _)| stream)))
    }
}

/// A TCP connection (asyncio's `StreamReader` / `StreamWriter` pair in one).
///
/// Implements `AsyncRead`, `AsyncBufRead` and `AsyncWrite`; `close()` (from
/// `AsyncWriteExt`) shuts the write side down, so the peer sees end-of-stream while this side
/// can still read (a half-close).
pub struct TcpStream {
    stream: Stream<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr` (`"example.com:80"`, `"127.0.0.1:8080"`, a `SocketAddr`, …), trying
    /// each resolved address in turn. The name is resolved off the reactor thread.
    ///
    /// # Errors
    ///
    /// Fails if the name does not resolve or no address accepts the connection (refused,
    /// unreachable, timed out); the error names the address, and keeps the OS error's kind
    /// (`ConnectionRefused`, …).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let mut last = None;
        for addr in resolve(&addr).await? {
            match connect_one(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(context(e, format_args!("connect to {addr}"))),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As `getpeername(2)`, for example when the peer is gone.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: send small writes at once instead of coalescing them (Nagle).
    ///
    /// # Errors
    ///
    /// As `setsockopt(2)`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// As `getsockopt(2)`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.get_ref().nodelay()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// As `shutdown(2)`, for example `NotConnected`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.get_ref().shutdown(how)
    }

    /// The std stream inside (non-blocking).
    pub fn get_ref(&self) -> &std::net::TcpStream {
        self.stream.io.get_ref()
    }
}

/// Starts a non-blocking connect to `addr` and waits for its outcome.
async fn connect_one(addr: SocketAddr) -> io::Result<TcpStream> {
    let family = if addr.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
    let fd: OwnedFd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    match rustix::net::connect(&fd, &addr) {
        Ok(()) | Err(rustix::io::Errno::INPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let io = Async::new_nonblocking(std::net::TcpStream::from(fd))?;
    finish_connect(&io).await?;
    Ok(TcpStream { stream: Stream::new(io) })
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// Registers a connected std stream (made non-blocking) with the reactor.
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream { stream: Stream::new(Async::new(stream)?) })
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.io.as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl_stream_traits!(TcpStream);
