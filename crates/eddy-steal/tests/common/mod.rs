//! Shared test helpers (included with `mod common;` where needed).
#![allow(dead_code, unreachable_pub, missing_debug_implementations, missing_docs)]

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// A counter that a task can wait on, incremented (and waking the task) from any thread.
#[derive(Clone, Default)]
pub struct Signal(Arc<Mutex<(u64, Option<Waker>)>>);

impl Signal {
    pub fn bump(&self) {
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.0 += 1;
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Waits until the counter reaches `n`.
    pub async fn reached(&self, n: u64) {
        poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 >= n {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}

/// Fails the test if `f` does not return within `limit` (a hang is a lost wakeup).
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(limit).expect("did not finish in time: a wakeup was lost or a task starved")
}

/// Spins until `cond` holds or ten seconds pass.
pub fn wait_until(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    cond()
}

/// A one-shot door: a task waits at it (`pass`) until some thread opens it.
#[derive(Clone, Default)]
pub struct Door(Arc<Mutex<(bool, Option<Waker>)>>);

impl Door {
    pub async fn pass(&self) {
        poll_fn(|cx| {
            let mut state = self.0.lock().unwrap();
            if state.0 {
                Poll::Ready(())
            } else {
                state.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    pub fn is_waited_at(&self) -> bool {
        self.0.lock().unwrap().1.is_some()
    }

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
}
