//! Unix-domain sockets: [`UnixListener`], [`UnixStream`], [`UnixDatagram`].

use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{self as std_unix, SocketAddr};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_lite::Stream as FuturesStream;
use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use super::addr::context;
use super::stream::{finish_connect, impl_stream_traits, Stream};
use crate::Async;

/// A Unix-domain stream socket listening for connections.
///
/// ```
/// use eddy_io::net::{UnixListener, UnixStream};
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
///
/// let dir = std::env::temp_dir().join(format!("eddy-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// # let _ = std::fs::remove_file(&path);
/// eddy_io::block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     std::io::Result::Ok(())
/// })?;
/// # std::fs::remove_dir_all(&dir)?;
/// # std::io::Result::Ok(())
/// ```
pub struct UnixListener {
    io: Async<std_unix::UnixListener>,
}

impl UnixListener {
    /// Binds to the socket file at `path`, which must not exist yet.
    ///
    /// # Errors
    ///
    /// Fails if the path exists, its directory does not, or permission is denied.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let listener = std_unix::UnixListener::bind(path)
            .map_err(|e| context(e, format_args!("bind to {}", path.display())))?;
        UnixListener::try_from(listener)
    }

    /// Waits for a connection.
    ///
    /// # Errors
    ///
    /// Fails for this call only (for example `EMFILE`); the listener stays usable.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; see [`accept`](Self::accept).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = match self.io.poll_read_with(cx, |l| l.accept()) {
            Poll::Ready(result) => result,
            Poll::Pending => return Poll::Pending,
        };
        Poll::Ready(
            accepted
                .and_then(|(stream, peer)| Ok((UnixStream::try_from(stream)?, peer)))
                .map_err(|e| context(e, "accept on a Unix listener")),
        )
    }

    /// A stream of incoming connections.
    pub fn incoming(&self) -> UnixIncoming<'_> {
        UnixIncoming { listener: self }
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
    pub fn get_ref(&self) -> &std_unix::UnixListener {
        self.io.get_ref()
    }
}

impl TryFrom<std_unix::UnixListener> for UnixListener {
    type Error = io::Error;

    /// Registers a std listener (made non-blocking) with the reactor.
    fn try_from(listener: std_unix::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener { io: Async::new(listener)? })
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener").field("local_addr", &self.local_addr().ok()).finish()
    }
}

/// The stream of connections returned by [`UnixListener::incoming`]; it never ends.
#[derive(Debug)]
pub struct UnixIncoming<'a> {
    listener: &'a UnixListener,
}

impl FuturesStream for UnixIncoming<'_> {
    type Item = io::Result<UnixStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener.poll_accept(cx).map(|r| Some(r.map(|(stream, _)| stream)))
    }
}

/// A Unix-domain stream connection; implements `AsyncRead`, `AsyncBufRead` and `AsyncWrite`.
pub struct UnixStream {
    stream: Stream<std_unix::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// # Errors
    ///
    /// Fails if nothing listens there (`ConnectionRefused` or `NotFound`), or the listener's
    /// backlog is full (`WouldBlock`: Unix sockets do not finish a connect in the background).
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        connect_unix(path).await.map_err(|e| context(e, format_args!("connect to {}", path.display())))
    }

    /// A connected pair of streams.
    ///
    /// # Errors
    ///
    /// As `socketpair(2)`.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std_unix::UnixStream::pair()?;
        Ok((UnixStream::try_from(a)?, UnixStream::try_from(b)?))
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// As `getpeername(2)`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get_ref().local_addr()
    }

    /// Shuts down the read side, the write side, or both.
    ///
    /// # Errors
    ///
    /// As `shutdown(2)`.
    pub fn shutdown(&self, how: std::net::Shutdown) -> io::Result<()> {
        self.get_ref().shutdown(how)
    }

    /// The std stream inside (non-blocking).
    pub fn get_ref(&self) -> &std_unix::UnixStream {
        self.stream.io.get_ref()
    }
}

async fn connect_unix(path: &Path) -> io::Result<UnixStream> {
    let addr = SocketAddrUnix::new(path)?;
    let fd: OwnedFd = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?;
    match rustix::net::connect(&fd, &addr) {
        Ok(()) | Err(rustix::io::Errno::INPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    let io = Async::new_nonblocking(std_unix::UnixStream::from(fd))?;
    finish_connect(&io).await?;
    Ok(UnixStream { stream: Stream::new(io) })
}

impl TryFrom<std_unix::UnixStream> for UnixStream {
    type Error = io::Error;

    /// Registers a connected std stream (made non-blocking) with the reactor.
    fn try_from(stream: std_unix::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream { stream: Stream::new(Async::new(stream)?) })
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.io.as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream").field("peer_addr", &self.peer_addr().ok()).finish()
    }
}

impl_stream_traits!(UnixStream);

/// A Unix-domain datagram socket.
///
/// ```
/// use eddy_io::net::UnixDatagram;
///
/// eddy_io::block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"ping").await?;
///     let mut buf = [0; 4];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct UnixDatagram {
    io: Async<std_unix::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds to the socket file at `path`.
    ///
    /// # Errors
    ///
    /// Fails if the path exists, its directory does not, or permission is denied.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = std_unix::UnixDatagram::bind(path)
            .map_err(|e| context(e, format_args!("bind to {}", path.display())))?;
        UnixDatagram::try_from(socket)
    }

    /// A socket bound to no address, which can send to bound ones.
    ///
    /// # Errors
    ///
    /// As `socket(2)`.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::try_from(std_unix::UnixDatagram::unbound()?)
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    ///
    /// As `socketpair(2)`.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std_unix::UnixDatagram::pair()?;
        Ok((UnixDatagram::try_from(a)?, UnixDatagram::try_from(b)?))
    }

    /// Sets the default destination for [`send`](Self::send).
    ///
    /// # Errors
    ///
    /// Fails if nothing is bound at `path`.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        self.io.get_ref().connect(path).map_err(|e| context(e, format_args!("connect to {}", path.display())))
    }

    /// Sends a datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// Fails if nothing is bound at `path`, or as `sendto(2)`.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.io
            .write_with(|s| s.send_to(buf, path))
            .await
            .map_err(|e| context(e, format_args!("send to {}", path.display())))
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// Fails if the socket is not connected, or as `send(2)`.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// As `recv(2)`.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.read_with(|s| s.recv(buf)).await
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// As `getsockname(2)`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` if the socket is not connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The std socket inside (non-blocking).
    pub fn get_ref(&self) -> &std_unix::UnixDatagram {
        self.io.get_ref()
    }
}

impl TryFrom<std_unix::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// Registers a std socket (made non-blocking) with the reactor.
    fn try_from(socket: std_unix::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram { io: Async::new(socket)? })
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram").field("local_addr", &self.local_addr().ok()).finish()
    }
}
