//! The byte-stream machinery shared by [`TcpStream`](super::TcpStream) and
//! [`UnixStream`](super::UnixStream): `AsyncRead`, `AsyncBufRead` (with a read buffer allocated
//! on first use, so streams that never use it pay nothing) and `AsyncWrite`.

use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use crate::reactor::Dir;
use crate::Async;

/// Waits until a non-blocking `connect` on `io` has finished, and reports how.
///
/// Writable (or an error) comes once the handshake ends. Until then, `getpeername` says
/// `ENOTCONN` and `SO_ERROR` is clear: report `WouldBlock`, so that `write_with` waits for the
/// event.
pub(crate) async fn finish_connect<T: AsFd>(io: &Async<T>) -> io::Result<()> {
    io.write_with(|s| match rustix::net::getpeername(s) {
        Ok(_) => Ok(()),
        Err(rustix::io::Errno::NOTCONN) => match rustix::net::sockopt::socket_error(s)? {
            Ok(()) => Err(io::ErrorKind::WouldBlock.into()),
            Err(errno) => Err(errno.into()),
        },
        Err(e) => Err(e.into()),
    })
    .await
}

/// Size of the read buffer that `AsyncBufRead` allocates on first use.
const BUF_SIZE: usize = 8 * 1024;

/// A connected socket and its optional read buffer.
pub(crate) struct Stream<T: AsFd> {
    pub(crate) io: Async<T>,
    buf: Vec<u8>,
    pos: usize,
}

/// The std stream sockets.
pub(crate) trait Socket: AsFd + Read + Write + Unpin {
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl Socket for std::net::TcpStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::net::TcpStream::shutdown(self, how)
    }
}

impl Socket for std::os::unix::net::UnixStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        std::os::unix::net::UnixStream::shutdown(self, how)
    }
}

impl<T: Socket> Stream<T> {
    pub(crate) fn new(io: Async<T>) -> Stream<T> {
        Stream { io, buf: Vec::new(), pos: 0 }
    }

    pub(crate) fn poll_read(&mut self, cx: &mut Context<'_>, out: &mut [u8]) -> Poll<io::Result<usize>> {
        let buffered = &self.buf[self.pos..];
        if !buffered.is_empty() {
            let n = buffered.len().min(out.len());
            out[..n].copy_from_slice(&buffered[..n]);
            self.consume(n);
            return Poll::Ready(Ok(n));
        }
        self.io.poll_io_mut(Dir::Read, cx, |s| s.read(out))
    }

    pub(crate) fn poll_fill_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        if self.pos == self.buf.len() {
            self.buf.resize(BUF_SIZE, 0);
            let Stream { io, buf, pos } = self;
            let result = io.poll_io_mut(Dir::Read, cx, |s| s.read(buf));
            *pos = 0;
            match result {
                Poll::Ready(Ok(n)) => buf.truncate(n),
                other => {
                    buf.clear();
                    return other.map_ok(|_| &[][..]);
                }
            }
        }
        Poll::Ready(Ok(&self.buf[self.pos..]))
    }

    pub(crate) fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.buf.len());
    }

    pub(crate) fn poll_write(&mut self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_io_mut(Dir::Write, cx, |s| s.write(data))
    }

    pub(crate) fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io_mut(Dir::Write, cx, |s| s.write_vectored(bufs))
    }

    /// Shuts the write side down, so the peer reads end-of-stream (a half-close).
    pub(crate) fn poll_close(&mut self) -> Poll<io::Result<()>> {
        Poll::Ready(match self.io.get_ref().shutdown(Shutdown::Write) {
            // Already shut down or never connected: closing again is not an error.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            other => other,
        })
    }
}

/// Implements the futures-io traits for a stream type with a `stream: Stream<_>` field.
macro_rules! impl_stream_traits {
    ($ty:ty) => {
        impl futures_lite::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.get_mut().stream.poll_read(cx, buf)
            }
        }

        impl futures_lite::io::AsyncBufRead for $ty {
            fn poll_fill_buf(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<&[u8]>> {
                self.get_mut().stream.poll_fill_buf(cx)
            }

            fn consume(self: std::pin::Pin<&mut Self>, amt: usize) {
                self.get_mut().stream.consume(amt)
            }
        }

        impl futures_lite::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.get_mut().stream.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.get_mut().stream.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Sockets have no user-space write buffer: every write went to the kernel.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.get_mut().stream.poll_close()
            }
        }
    };
}

pub(crate) use impl_stream_traits;
