//! [`Async<T>`]: any non-blocking file descriptor, driven by the reactor.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_lite::io::{AsyncRead, AsyncWrite};

use crate::reactor::{Dir, Reactor, Source};

/// An I/O object (anything with a file descriptor) made non-blocking and registered with the
/// reactor (asyncio's `add_reader` / `add_writer`, as futures).
///
/// The I/O operations go through [`read_with`](Async::read_with) and
/// [`write_with`](Async::write_with): they run a non-blocking operation and, whenever it reports
/// `WouldBlock`, wait for the descriptor to become ready and try again. `Async<T>` implements
/// `AsyncRead` / `AsyncWrite` when `T` implements `Read` / `Write`.
///
/// ```
/// use std::os::unix::net::UnixStream;
/// use eddy_io::Async;
/// use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
///
/// eddy_io::block_on(async {
///     let (a, b) = UnixStream::pair()?;
///     let (mut a, mut b) = (Async::new(a)?, Async::new(b)?);
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"ping");
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct Async<T: AsFd> {
    /// The reactor current when the object was made, which serves it for its life.
    reactor: Arc<Reactor>,
    source: Arc<Source>,
    io: Option<T>,
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the reactor.
    ///
    /// # Errors
    ///
    /// Fails if the descriptor cannot be made non-blocking or registered (for example, a
    /// regular file, which epoll refuses).
    pub fn new(io: T) -> io::Result<Async<T>> {
        rustix::io::ioctl_fionbio(io.as_fd(), true)?;
        Async::new_nonblocking(io)
    }

    /// Registers `io`, which the caller has already put in non-blocking mode.
    pub(crate) fn new_nonblocking(io: T) -> io::Result<Async<T>> {
        let reactor = Reactor::current();
        let source = reactor.register(io.as_fd())?;
        Ok(Async { reactor, source, io: Some(io) })
    }

    /// The inner I/O object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("io is present until into_inner or drop")
    }

    /// The inner I/O object, mutably. Replacing it with another descriptor is not supported.
    pub fn get_mut(&mut self) -> &mut T {
        self.io.as_mut().expect("io is present until into_inner or drop")
    }

    /// Deregisters the I/O object and returns it, still in non-blocking mode.
    ///
    /// # Errors
    ///
    /// Fails if the reactor cannot deregister it.
    pub fn into_inner(mut self) -> io::Result<T> {
        let io = self.io.take().expect("io is present until into_inner or drop");
        self.reactor.deregister(&self.source)?;
        Ok(io)
    }

    /// Waits until the descriptor may be readable.
    ///
    /// The reactor is edge-triggered, so this is a hint: it completes at once unless an
    /// operation through [`read_with`](Self::read_with) (or the `AsyncRead` impl) last reported
    /// `WouldBlock` and no event has arrived since. Do the reading itself with `read_with`,
    /// which handles `WouldBlock` and waits again as needed.
    pub async fn readable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_readable(cx)).await
    }

    /// Waits until the descriptor may be writable; a hint, as for [`readable`](Self::readable).
    pub async fn writable(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_writable(cx)).await
    }

    /// Polls for readability; see [`readable`](Self::readable).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(&self.reactor, Dir::Read, cx).map_ok(drop)
    }

    /// Polls for writability; see [`writable`](Self::writable).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.source.poll_ready(&self.reactor, Dir::Write, cx).map_ok(drop)
    }

    /// Runs the non-blocking read operation `op` until it does not return `WouldBlock`.
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use eddy_io::Async;
    ///
    /// eddy_io::block_on(async {
    ///     let socket = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     let addr = socket.get_ref().local_addr()?;
    ///     socket.get_ref().send_to(b"hi", addr)?;
    ///     let mut buf = [0; 2];
    ///     let (n, _) = socket.read_with(|s| s.recv_from(&mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"hi");
    ///     std::io::Result::Ok(())
    /// })?;
    /// # std::io::Result::Ok(())
    /// ```
    pub async fn read_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_read_with(cx, &mut op)).await
    }

    /// Like [`read_with`](Self::read_with), with mutable access to the I/O object.
    pub async fn read_with_mut<R>(&mut self, mut op: impl FnMut(&mut T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_io_mut(Dir::Read, cx, &mut op)).await
    }

    /// Runs the non-blocking write operation `op` until it does not return `WouldBlock`.
    pub async fn write_with<R>(&self, mut op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_write_with(cx, &mut op)).await
    }

    /// Like [`write_with`](Self::write_with), with mutable access to the I/O object.
    pub async fn write_with_mut<R>(&mut self, mut op: impl FnMut(&mut T) -> io::Result<R>) -> io::Result<R> {
        poll_fn(|cx| self.poll_io_mut(Dir::Write, cx, &mut op)).await
    }

    /// Polls the operation `op` in direction `dir` with mutable access to the I/O object.
    pub(crate) fn poll_io_mut<R>(
        &mut self,
        dir: Dir,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&mut T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let Async { reactor, source, io } = self;
        let io = io.as_mut().expect("io is present until into_inner or drop");
        source.poll_io(reactor, dir, cx, || op(io))
    }

    /// Polls the read operation `op`; see [`read_with`](Self::read_with).
    pub fn poll_read_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.source.poll_io(&self.reactor, Dir::Read, cx, || op(io))
    }

    /// Polls the write operation `op`; see [`write_with`](Self::write_with).
    pub fn poll_write_with<R>(
        &self,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.source.poll_io(&self.reactor, Dir::Write, cx, || op(io))
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Deregister before the descriptor is closed (when `io` drops right after). A failure
            // means the descriptor was already gone from the poller: nothing left to undo.
            let _ = self.reactor.deregister(&self.source);
        }
    }
}

impl<T: AsFd> AsFd for Async<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl<T: AsFd> AsRawFd for Async<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_fd().as_raw_fd()
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Async").field(self.get_ref()).finish()
    }
}

impl<T: AsFd + Read + Unpin> AsyncRead for Async<T> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io_mut(Dir::Read, cx, |io| io.read(buf))
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io_mut(Dir::Read, cx, |io| io.read_vectored(bufs))
    }
}

impl<T: AsFd + Write + Unpin> AsyncWrite for Async<T> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io_mut(Dir::Write, cx, |io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_io_mut(Dir::Write, cx, |io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().poll_io_mut(Dir::Write, cx, |io| io.flush())
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
