//! The I/O driver of the eddy async runtime: a reactor, timers, `block_on`, and sockets.
//!
//! - [`block_on`] runs a future on the current thread; while the future waits, the thread
//!   drives the reactor (epoll, kqueue, … through `polling`), so I/O and timers need no extra
//!   thread.
//! - [`Parker`] is the same waiting, for executors: an idle executor thread parks in it, and
//!   the `eddy` facade plugs it into eddy's executors through their park hook.
//! - Timers: [`sleep`], [`sleep_until`], [`Timer`], [`interval`], [`timeout`], [`timeout_at`].
//! - [`Async<T>`] adapts any file descriptor; [`net`] has TCP, UDP and Unix sockets built on it.
//! - [`Driver`] gives a runtime a reactor of its own; everything else shares the process-wide
//!   one.
//!
//! The crate works with any executor, or none, as long as some thread drives the reactor its
//! objects use: a thread in [`block_on`], an executor parked in a [`Parker`], or (for the global
//! reactor, once an object of it has waited inside a runtime) the `eddy-io` thread.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use eddy_io::net::{TcpListener, TcpStream};
//! use futures_lite::io::{AsyncReadExt, AsyncWriteExt};
//!
//! eddy_io::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (mut server, _) = listener.accept().await?;
//!
//!     client.write_all(b"ping").await?;
//!     let mut buf = [0; 4];
//!     eddy_io::timeout(Duration::from_secs(5), server.read_exact(&mut buf)).await??;
//!     assert_eq!(&buf, b"ping");
//!     std::io::Result::Ok(())
//! })?;
//! # std::io::Result::Ok(())
//! ```

mod async_fd;
mod driver;
pub mod net;
mod parker;
mod reactor;
mod selector;
mod time;
mod timers;
mod unblock;

pub use async_fd::Async;
pub use driver::{Driver, EnterGuard};
pub use parker::{block_on, Parker, Unparker};
pub use time::{
    interval, interval_at, registered_timers, sleep, sleep_until, timeout, timeout_at, Elapsed, Interval,
    Timeout, Timer,
};
