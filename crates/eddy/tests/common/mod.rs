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

    /// Spawns a task that holds one of this counter's guards and waits forever, so that the
    /// count tells when its future was dropped.
    pub fn spawn_parked(&self) -> eddy::task::Task<()> {
        let guard = self.guard();
        eddy::spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        })
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

/// A future that completes with its value once the gate is opened, from any thread.
#[derive(Clone, Default)]
pub struct Gate(Arc<std::sync::Mutex<(bool, Option<std::task::Waker>)>>);

impl Gate {
    pub fn open(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 = true;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub fn is_open(&self) -> bool {
        self.0.lock().unwrap().0
    }

    /// Whether a future is parked on this gate.
    pub fn has_waiter(&self) -> bool {
        self.0.lock().unwrap().1.is_some()
    }

    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 {
                std::task::Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        })
        .await
    }
}

/// Opens `gates` in the order `order` gives, from a separate task, yielding between openings.
/// It starts once a future is parked on every gate it opens, so that the opening order is the
/// order in which those futures complete.
pub fn open_in_order(gates: &[Gate], order: &[usize]) -> eddy::Task<()> {
    let gates: Vec<Gate> = order.iter().map(|&i| gates[i].clone()).collect();
    eddy::spawn(async move {
        eventually("a future waits on every gate", || gates.iter().all(Gate::has_waiter)).await;
        for gate in gates {
            yield_times(2).await;
            gate.open();
        }
    })
}
