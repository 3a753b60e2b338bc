//! The park hook: how an idle executor thread waits, without executors knowing about I/O.
//!
//! An executor that owns its thread's loop (rather than running under someone else's
//! `block_on`) calls [`Park::park`] whenever it has no task ready. An implementation blocks the
//! thread until [`Park::waker`] is woken or the timeout passes, and may do useful work
//! meanwhile: the `eddy` facade implements it with `eddy-io`'s reactor, so a parked executor
//! thread is the thread that waits for I/O and timers. The executor stays entered while it
//! parks, so wakes delivered by the reactor on that thread take the executor's local path.
//!
//! # Contract
//!
//! - `park(None)` returns after the waker was woken (possibly before it blocks at all, if the
//!   wake came first), or spuriously; the caller re-checks its queues either way.
//! - `park(Some(Duration::ZERO))` must not block: it processes what is ready (I/O events, due
//!   timers) and returns. Executors call it between batches of tasks so I/O is not starved.
//! - `waker()` may be called once and woken from any thread, any number of times.

use std::task::Waker;
use std::time::Duration;

/// How an idle executor thread waits; see the [module documentation](self).
pub trait Park {
    /// Blocks until woken through [`waker`](Park::waker), or until `timeout` passes.
    fn park(&mut self, timeout: Option<Duration>);

    /// A waker that unparks this parker from any thread.
    fn waker(&self) -> Waker;
}

/// A [`Park`] that only sleeps the thread: for executors used without an I/O driver.
#[derive(Debug)]
pub struct ThreadPark {
    thread: std::thread::Thread,
    woken: std::sync::Arc<ThreadWake>,
}

#[derive(Debug)]
struct ThreadWake {
    thread: std::thread::Thread,
    flag: std::sync::atomic::AtomicBool,
}

impl std::task::Wake for ThreadWake {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.flag.store(true, std::sync::atomic::Ordering::Release);
        self.thread.unpark();
    }
}

impl ThreadPark {
    /// A parker for the current thread.
    pub fn new() -> ThreadPark {
        let thread = std::thread::current();
        let woken = std::sync::Arc::new(ThreadWake {
            thread: thread.clone(),
            flag: std::sync::atomic::AtomicBool::new(false),
        });
        ThreadPark { thread, woken }
    }
}

impl Default for ThreadPark {
    fn default() -> ThreadPark {
        ThreadPark::new()
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        use std::sync::atomic::Ordering;
        debug_assert_eq!(self.thread.id(), std::thread::current().id(), "ThreadPark used on another thread");
        if self.woken.flag.swap(false, Ordering::Acquire) {
            return;
        }
        match timeout {
            Some(timeout) if timeout.is_zero() => {}
            Some(timeout) => std::thread::park_timeout(timeout),
            None => std::thread::park(),
        }
        self.woken.flag.store(false, Ordering::Release);
    }

    fn waker(&self) -> Waker {
        Waker::from(self.woken.clone())
    }
}
