//! Shared helpers for the facade's tests.
//!
//! Every test builds its runtime with [`runtime`], which picks the executor named by the
//! `EDDY_TEST_EXECUTOR` environment variable, so `cargo xtask test` can run the whole suite once
//! per executor.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The executors the suite knows how to build, by `EDDY_TEST_EXECUTOR` value.
pub const EXECUTORS: &[&str] = &["local", "steal"];

/// Builds a runtime on the executor selected by `EDDY_TEST_EXECUTOR` (default: `local`).
pub fn runtime() -> eddy::Runtime {
    let name = std::env::var("EDDY_TEST_EXECUTOR").unwrap_or_else(|_| "local".to_owned());
    match name.as_str() {
        "local" => eddy::Runtime::builder().local().build().expect("build local runtime"),
        "steal" => eddy::Runtime::builder().build().expect("build work-stealing runtime"),
        other => panic!("EDDY_TEST_EXECUTOR={other} is not one of {EXECUTORS:?}"),
    }
}

/// Runs `future` on a fresh runtime from [`runtime`], then drops the runtime.
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// Counts how many times the values it hands out are dropped.
#[derive(Clone, Default)]
pub struct DropCounter(Arc<AtomicUsize>);

impl DropCounter {
    pub fn new() -> DropCounter {
        DropCounter::default()
    }

    /// A value whose drop is counted.
    pub fn guard(&self) -> DropGuard {
        DropGuard(self.0.clone())
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

pub struct DropGuard(Arc<AtomicUsize>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Waits until `cond` holds, checking every millisecond, for at most ten seconds; then fails
/// the test with `what`. On a multi-threaded runtime other tasks run in parallel, so a test
/// waits for their effects instead of assuming they happened after a few yields.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        eddy::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Yields to the executor `n` times, letting other tasks run.
pub async fn yield_times(n: usize) {
    for _ in 0..n {
        eddy::yield_now().await;
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
pub fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload.downcast_ref::<&str>().map(|s| s.to_string()).unwrap_or_default(),
    }
}
