//! [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};

use super::addr::{context, resolve, ToSocketAddrs};
use crate::Async;

/// A UDP socket (asyncio's datagram endpoint).
///
/// ```
/// use eddy_io::net::UdpSocket;
///
/// eddy_io::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     std::io::Result::Ok(())
/// })?;
/// # std::io::Result::Ok(())
/// ```
pub struct UdpSocket {
    io: Async<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`, trying each resolved address in turn; port 0 picks a free port.
    ///
    /// # Errors
    ///
    /// Fails if the name does not resolve or no address can be bound; the error names it.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let mut last = None;
        for addr in resolve(&addr).await? {
            match std::net::UdpSocket::bind(addr).and_then(UdpSocket::try_from) {
                Ok(socket) => return Ok(socket),
                Err(e) => last = Some(context(e, format_args!("bind to {addr}"))),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Sets the default destination for [`send`](Self::send), and the only source
    /// [`recv`](Self::recv) accepts datagrams from.
    ///
    /// # Errors
    ///
    /// Fails if the name does not resolve or the OS refuses every address.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let mut last = None;
        for addr in resolve(&addr).await? {
            match self.io.get_ref().connect(addr) {
                Ok(()) => return Ok(()),
                Err(e) => last = Some(context(e, format_args!("connect to {addr}"))),
            }
        }
        Err(last.expect("resolve returns at least one address"))
    }

    /// Sends a datagram to `addr`; returns the number of bytes sent.
    ///
    /// # Errors
    ///
    /// Fails if the name does not resolve or the OS refuses the datagram (too large,
    /// unreachable network).
    pub async fn send_to(&self, buf: &[u8], addr: impl ToSocketAddrs) -> io::Result<usize> {
        let addr = resolve(&addr).await?[0];
        self.io
            .write_with(|s| s.send_to(buf, addr))
            .await
            .map_err(|e| context(e, format_args!("send to {addr}")))
    }

    /// Receives a datagram; returns its length and sender. A datagram longer than `buf` is
    /// truncated.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)`.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.recv_from(buf)).await
    }

    /// Like [`recv_from`](Self::recv_from), leaving the datagram in the queue.
    ///
    /// # Errors
    ///
    /// As `recvfrom(2)`.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.read_with(|s| s.peek_from(buf)).await
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// Fails if the socket is not connected, or as `send(2)` (a previous datagram was refused:
    /// `ConnectionRefused`).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.write_with(|s| s.send(buf)).await
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// Fails if the socket is not connected, or as `recv(2)`.
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
    /// `NotConnected` if [`connect`](Self::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The std socket inside (non-blocking), for options such as broadcast or multicast.
    pub fn get_ref(&self) -> &std::net::UdpSocket {
        self.io.get_ref()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// Registers a std socket (made non-blocking) with the reactor.
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket { io: Async::new(socket)? })
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket").field("local_addr", &self.local_addr().ok()).finish()
    }
}
