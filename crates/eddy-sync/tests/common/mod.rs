//! Shared test helpers (included with `mod common;` where needed).
#![allow(dead_code, unreachable_pub, missing_debug_implementations, missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Polls `future` once with a waker that does nothing; the tests drive everything by hand.
pub fn poll<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A boxed, pinned future, so futures of different types can sit in one `Vec`.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// Runs `f` on the single-threaded executor.
pub fn local<T>(f: impl Future<Output = T>) -> T {
    eddy_local::LocalExecutor::new().block_on(&mut eddy_task::ThreadPark::new(), f)
}

/// Fails the test if `f` does not return within `limit` (a hang is a lost wakeup).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(limit).expect("did not finish in time: a wakeup was lost")
}
