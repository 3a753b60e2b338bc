//! Socket addresses: what `connect`, `bind` and `send_to` accept, and name resolution.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use crate::unblock::unblock;

/// Anything that names one or more socket addresses: a `SocketAddr`, an `(ip, port)` pair,
/// `"host:port"`, `("host", port)`, or a list of addresses.
///
/// Literal addresses are used as they are. Host names are resolved by the operating system's
/// resolver on a helper thread, never on the thread that drives the reactor.
pub trait ToSocketAddrs {
    /// The addresses if they are literal, else the `host:port` text to look up.
    #[doc(hidden)]
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String>;
}

macro_rules! literal {
    ($($t:ty),*) => {$(
        impl ToSocketAddrs for $t {
            fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
                Ok(vec![SocketAddr::from(*self)])
            }
        }
    )*};
}

literal!(SocketAddr, SocketAddrV4, SocketAddrV6, (IpAddr, u16), (Ipv4Addr, u16), (Ipv6Addr, u16));

impl ToSocketAddrs for str {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        self.parse::<SocketAddr>().map(|a| vec![a]).map_err(|_| self.to_owned())
    }
}

impl ToSocketAddrs for String {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        match self.0.parse::<IpAddr>() {
            Ok(ip) => Ok(vec![SocketAddr::new(ip, self.1)]),
            Err(_) => Err(format!("{}:{}", self.0, self.1)),
        }
    }
}

impl ToSocketAddrs for (String, u16) {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl ToSocketAddrs for [SocketAddr] {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        Ok(self.to_vec())
    }
}

impl ToSocketAddrs for Vec<SocketAddr> {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        Ok(self.clone())
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {
    fn to_addrs(&self) -> Result<Vec<SocketAddr>, String> {
        (**self).to_addrs()
    }
}

/// Resolves `target` to its addresses; an empty result is an error.
pub(crate) async fn resolve(target: &(impl ToSocketAddrs + ?Sized)) -> io::Result<Vec<SocketAddr>> {
    let addrs = match target.to_addrs() {
        Ok(addrs) => addrs,
        Err(name) => {
            let lookup = name.clone();
            let resolved = unblock("eddy-resolve", move || {
                std::net::ToSocketAddrs::to_socket_addrs(&lookup).map(Iterator::collect::<Vec<_>>)
            })
            .map_err(|e| context(e, format_args!("resolve {name:?}")))?
            .await;
            resolved.map_err(|e| context(e, format_args!("resolve {name:?}")))?
        }
    };
    if addrs.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no socket address to use"));
    }
    Ok(addrs)
}

/// An I/O error with the operation that failed: `connect to 127.0.0.1:9: Connection refused`.
#[derive(Debug)]
struct Context {
    operation: String,
    source: io::Error,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.source)
    }
}

impl Error for Context {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` with the operation that failed, keeping its `ErrorKind`.
pub(crate) fn context(source: io::Error, operation: impl fmt::Display) -> io::Error {
    io::Error::new(source.kind(), Context { operation: operation.to_string(), source })
}
