//! The blocking-thread pool behind `eddy::to_thread` (asyncio's `to_thread` and
//! `run_in_executor`).
//!
//! [`Pool::spawn`] runs a blocking or CPU-heavy closure on a pool thread and returns a
//! [`Task`] for its result, which any executor's task can await. A panic in the closure becomes
//! a [`JoinError`](eddy_task::JoinError); dropping the `Task` before the closure starts cancels
//! it (a closure that has started runs to completion, as threads cannot be interrupted).
//!
//! The pool grows on demand, one thread per closure that finds no idle thread, up to a limit;
//! a thread idle for longer than the keep-alive exits.
//!
//! # Design
//!
//! No lock is shared by submissions and threads (a single pool mutex is a known hotspot of
//! other runtimes): closures wait in a lock-free queue, idle threads announce themselves on a
//! lock-free idle list, and the thread count is an atomic. A submission pushes its closure, then
//! unparks an idle thread whose `parked` flag it swaps from true to false, or starts a new
//! thread if the limit allows. An idle thread sets `parked`, announces itself, issues a `SeqCst`
//! fence and checks the queue again before parking, so a submission is never left behind.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use eddy_blocking::Pool;
//!
//! let pool = Pool::builder().max_threads(4).build();
//! let task = pool.spawn(|| {
//!     std::thread::sleep(Duration::from_millis(10)); // blocking work
//!     "done"
//! });
//! assert_eq!(futures_lite::future::block_on(task).unwrap(), "done");
//! ```

use std::fmt;
use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use concurrent_queue::ConcurrentQueue;
use eddy_task::{Builder as TaskBuilder, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn, Task};

/// The default maximum number of pool threads.
pub const DEFAULT_MAX_THREADS: usize = 512;
/// The default idle time after which a pool thread exits.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Configures a [`Pool`].
#[derive(Debug, Clone)]
pub struct Builder {
    max_threads: usize,
    keep_alive: Duration,
    name: String,
}

impl Builder {
    /// At most this many threads (at least one).
    pub fn max_threads(mut self, max_threads: usize) -> Builder {
        self.max_threads = max_threads.max(1);
        self
    }

    /// How long an idle thread waits for work before it exits.
    pub fn keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.keep_alive = keep_alive;
        self
    }

    /// The name of the pool's threads.
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.name = name.into();
        self
    }

    /// Creates the pool; threads start on demand.
    pub fn build(self) -> Pool {
        let inner = Arc::new_cyclic(|me| Inner {
            me: me.clone(),
            queue: ConcurrentQueue::unbounded(),
            idle: ConcurrentQueue::unbounded(),
            threads: AtomicUsize::new(0),
            busy: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            config: self,
        });
        Pool { scheduler: Scheduler::new(inner.clone()), inner }
    }
}

/// A pool of threads for blocking closures; see the [crate documentation](crate).
///
/// Cloning a `Pool` gives another handle to the same threads.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
    /// Made once; every handle and task holds a clone.
    scheduler: Scheduler,
}

struct Inner {
    /// The pool itself, for starting threads from `schedule`, which only gets `&self`.
    me: Weak<Inner>,
    queue: ConcurrentQueue<Runnable>,
    idle: ConcurrentQueue<Arc<Sleeper>>,
    threads: AtomicUsize,
    busy: AtomicUsize,
    closed: AtomicBool,
    config: Builder,
}

/// Counts a closure as running from its start until it returns or unwinds. Kept inside the
/// task's future, so the count drops before the task's output reaches its awaiter: a runtime
/// shutting down right after awaiting a `to_thread` task does not see it as still running.
struct Busy(Arc<Inner>);

struct Running(Arc<Inner>);

impl Busy {
    fn new(inner: Arc<Inner>) -> Busy {
        Busy(inner)
    }

    fn start(self) -> Running {
        self.0.busy.fetch_add(1, Ordering::SeqCst);
        Running(self.0)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An idle pool thread, as seen by submitters.
struct Sleeper {
    thread: Thread,
    parked: AtomicBool,
}

impl Pool {
    /// Returns a builder with the defaults: 512 threads at most, 10 s keep-alive.
    pub fn builder() -> Builder {
        Builder {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            name: "eddy-blocking".into(),
        }
    }

    /// Runs `f` on a pool thread; the returned task resolves to its result.
    ///
    /// After [`shutdown`](Self::shutdown), the task comes back already cancelled.
    #[track_caller]
    pub fn spawn<F, T>(&self, f: F) -> Task<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let busy = Busy::new(self.inner.clone());
        TaskBuilder::new().spawn_on(self, async move {
            let _busy = busy.start();
            f()
        })
    }

    /// The number of live pool threads.
    pub fn threads(&self) -> usize {
        self.inner.threads.load(Ordering::SeqCst)
    }

    /// The number of closures running now.
    pub fn busy(&self) -> usize {
        self.inner.busy.load(Ordering::SeqCst)
    }

    /// Stops the pool: closures not yet started are cancelled, idle threads exit, new
    /// submissions come back cancelled. Closures already running are not waited for: they are
    /// detached, and their number is returned (and reported on stderr if not zero).
    pub fn shutdown(&self) -> usize {
        let inner = &self.inner;
        inner.closed.store(true, Ordering::SeqCst);
        for runnable in inner.queue.try_iter() {
            drop(runnable);
        }
        while let Ok(sleeper) = inner.idle.pop() {
            sleeper.parked.store(false, Ordering::SeqCst);
            sleeper.thread.unpark();
        }
        let busy = inner.busy.load(Ordering::SeqCst);
        if busy > 0 {
            // One write for the whole line, so other threads' output cannot split it.
            let line = format!(
                "eddy: shutting down with {busy} blocking closure(s) still running in `to_thread`; \
                 they are detached and their threads exit when they return\n"
            );
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        }
        busy
    }
}

impl Inner {
    fn submit(&self, runnable: Runnable) {
        if self.closed.load(Ordering::SeqCst) {
            drop(runnable); // cancels the task
            return;
        }
        // Unbounded and never closed: always accepts.
        let _ = self.queue.push(runnable);
        fence(Ordering::SeqCst);
        while let Ok(sleeper) = self.idle.pop() {
            if sleeper.parked.swap(false, Ordering::SeqCst) {
                sleeper.thread.unpark();
                return;
            }
        }
        self.grow();
    }

    /// Starts a thread if under the limit.
    fn grow(&self) {
        let mut threads = self.threads.load(Ordering::SeqCst);
        loop {
            if threads >= self.config.max_threads {
                return; // a running thread takes the closure when it is done
            }
            match self.threads.compare_exchange_weak(threads, threads + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => break,
                Err(actual) => threads = actual,
            }
        }
        let spawned = match self.me.upgrade() {
            Some(inner) => thread::Builder::new().name(self.config.name.clone()).spawn(move || inner.work()),
            None => return, // the pool is being dropped
        };
        if spawned.is_err() {
            self.threads.fetch_sub(1, Ordering::SeqCst);
            // No thread could be started: if none is left to take queued closures, cancel them
            // rather than leave their awaiters hanging.
            if self.threads.load(Ordering::SeqCst) == 0 {
                for runnable in self.queue.try_iter() {
                    drop(runnable);
                }
            }
        }
    }

    /// A pool thread's loop.
    fn work(self: Arc<Self>) {
        let me = Arc::new(Sleeper { thread: thread::current(), parked: AtomicBool::new(false) });
        loop {
            while let Ok(runnable) = self.queue.pop() {
                runnable.run();
            }
            if self.closed.load(Ordering::SeqCst) {
                break;
            }
            // Announce this thread as idle, then look once more before sleeping.
            me.parked.store(true, Ordering::SeqCst);
            let _ = self.idle.push(me.clone());
            fence(Ordering::SeqCst);
            if !self.queue.is_empty() {
                me.parked.store(false, Ordering::SeqCst);
                continue;
            }
            let deadline = Instant::now() + self.config.keep_alive;
            while me.parked.load(Ordering::SeqCst) && !self.closed.load(Ordering::SeqCst) {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                thread::park_timeout(deadline - now);
            }
            if me.parked.swap(false, Ordering::SeqCst) {
                // Timed out with nobody claiming this thread: exit, unless work slipped in.
                self.threads.fetch_sub(1, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                if self.queue.is_empty() || self.closed.load(Ordering::SeqCst) || !self.rejoin() {
                    return;
                }
            }
        }
        self.threads.fetch_sub(1, Ordering::SeqCst);
    }

    /// Counts this exiting thread back in, if under the limit.
    fn rejoin(&self) -> bool {
        let mut threads = self.threads.load(Ordering::SeqCst);
        while threads < self.config.max_threads {
            match self.threads.compare_exchange_weak(threads, threads + 1, Ordering::SeqCst, Ordering::SeqCst)
            {
                Ok(_) => return true,
                Err(actual) => threads = actual,
            }
        }
        false
    }
}

impl Schedule for Inner {
    fn schedule(&self, runnable: Runnable, _info: ScheduleInfo) {
        // A blocking task is scheduled when spawned (its future never waits), and once more to
        // be dropped if it is cancelled before it ran.
        self.submit(runnable);
    }
}

impl Spawn for Pool {
    fn scheduler(&self) -> Scheduler {
        self.scheduler.clone()
    }

    fn identity(&self) -> *const () {
        Arc::as_ptr(&self.inner) as *const ()
    }

    fn is_local(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    fn register(&self, _waker: &std::task::Waker) -> Option<usize> {
        // A blocking task finishes in its one poll and never waits, so it never registers; queued
        // closures are reachable through the queue. The pool keeps no registry.
        Some(0)
    }

    fn unregister(&self, _key: usize) {}
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.threads())
            .field("busy", &self.busy())
            .field("max_threads", &self.inner.config.max_threads)
            .field("keep_alive", &self.inner.config.keep_alive)
            .finish()
    }
}
