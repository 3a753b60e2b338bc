//! Networking: TCP, UDP and Unix-domain sockets (asyncio's streams and datagram endpoints).
//!
//! Every operation that can fail on bad input (an unresolvable host, a refused or unreachable
//! connection, a reset peer, a closed socket, no file descriptors left) returns an `io::Error`
//! whose message names the operation and the address, keeps the OS error's `ErrorKind`, and
//! carries the OS error as its `source()`. It never panics, and it affects only that operation:
//! a listener whose `accept` failed keeps accepting.

mod addr;
mod stream;
mod tcp;
mod udp;
mod unix;

pub use addr::ToSocketAddrs;
pub use tcp::{Incoming, TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixIncoming, UnixListener, UnixStream};
