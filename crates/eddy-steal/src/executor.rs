//! [`Executor`] and its [`Builder`].
//!
//! # Shutdown
//!
//! Dropping an [`Executor`]:
//! 1. sets `closed`: workers finish the task they are running and exit their loop; spawns from
//!    now on come back already cancelled;
//! 2. wakes every worker and joins its thread;
//! 3. on the dropping thread, with the executor entered, closes the registry, wakes every task
//!    still registered (each lands in the injector), and drops every queued runnable, which
//!    drops its future (its `Drop` runs; the awaiter sees a cancelled `JoinError`); repeats until
//!    nothing is left;
//! 4. sets `dead`: a wake that arrives later drops its task at once.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc as StdArc;
use std::task::{Context as TaskContext, Poll};
use std::thread::JoinHandle;

use eddy_task::{enter, Builder as TaskBuilder, Park, Scheduler, Task, ThreadPark};

use crate::sync::{Arc, Ordering};
use crate::worker::{self, Handle, Shared};

type ParkFactory = StdArc<dyn Fn() -> Box<dyn Park> + Send + Sync>;
type Hook = StdArc<dyn Fn() + Send + Sync>;

/// Configures an [`Executor`].
pub struct Builder {
    workers: usize,
    thread_name: StdArc<dyn Fn(usize) -> String + Send + Sync>,
    park: ParkFactory,
    on_thread_start: Option<Hook>,
    on_thread_stop: Option<Hook>,
}

impl Builder {
    /// One worker per available core; workers park with [`ThreadPark`].
    pub fn new() -> Builder {
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        Builder {
            workers,
            thread_name: StdArc::new(|i| format!("eddy-worker-{i}")),
            park: StdArc::new(|| Box::new(ThreadPark::new())),
            on_thread_start: None,
            on_thread_stop: None,
        }
    }

    /// Sets the number of worker threads (at least one).
    pub fn workers(mut self, workers: usize) -> Builder {
        self.workers = workers.max(1);
        self
    }

    /// Names worker threads `{prefix}-{index}`.
    pub fn thread_name(mut self, prefix: impl Into<String>) -> Builder {
        let prefix: String = prefix.into();
        self.thread_name = StdArc::new(move |i| format!("{prefix}-{i}"));
        self
    }

    /// Sets how idle workers wait: `make_park` runs on each worker thread as it starts. The
    /// `eddy` facade passes a parker that drives the I/O reactor.
    pub fn park_with(mut self, make_park: impl Fn() -> Box<dyn Park> + Send + Sync + 'static) -> Builder {
        self.park = StdArc::new(make_park);
        self
    }

    /// Runs `hook` on each worker thread when it starts, before it runs any task.
    pub fn on_thread_start(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.on_thread_start = Some(StdArc::new(hook));
        self
    }

    /// Runs `hook` on each worker thread just before it exits.
    pub fn on_thread_stop(mut self, hook: impl Fn() + Send + Sync + 'static) -> Builder {
        self.on_thread_stop = Some(StdArc::new(hook));
        self
    }

    /// Starts the worker threads.
    ///
    /// # Errors
    ///
    /// Fails if the OS refuses to start a thread; the threads already started are stopped.
    pub fn build(self) -> io::Result<Executor> {
        let shared = Arc::new(Shared::new(self.workers));
        let mut executor = Executor {
            shared: shared.clone(),
            scheduler: Scheduler::new(shared.clone()),
            threads: Vec::with_capacity(self.workers),
        };
        for index in 0..self.workers {
            // Each worker's own `Scheduler` (all wrapping the same `Shared`): a spawn clones it,
            // so workers spawning at once do not contend on one reference count.
            let scheduler = Scheduler::new(shared.clone());
            let handle = Handle { shared: shared.clone(), scheduler };
            let park = self.park.clone();
            let (start, stop) = (self.on_thread_start.clone(), self.on_thread_stop.clone());
            let thread = std::thread::Builder::new().name((self.thread_name)(index)).spawn(move || {
                if let Some(start) = start {
                    start();
                }
                worker::run(handle, index, park());
                if let Some(stop) = stop {
                    stop();
                }
            })?;
            executor.threads.push(thread);
        }
        Ok(executor)
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").field("workers", &self.workers).finish_non_exhaustive()
    }
}

/// A work-stealing executor: `Send` futures run on a pool of worker threads.
///
/// See the [crate documentation](crate) for the design.
pub struct Executor {
    shared: Arc<Shared>,
    /// Made once; every handle and task holds a clone.
    scheduler: Scheduler,
    threads: Vec<JoinHandle<()>>,
}

impl Executor {
    /// An executor with one worker per core, started at once.
    ///
    /// # Errors
    ///
    /// Fails if the OS refuses to start a thread.
    pub fn new() -> io::Result<Executor> {
        Builder::new().build()
    }

    /// Returns a builder.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Spawns a task; it starts on a worker at once.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TaskBuilder::new().spawn_on(&self.handle(), future)
    }

    /// A handle that spawns onto this executor from any thread.
    pub fn handle(&self) -> Handle {
        Handle { shared: self.shared.clone(), scheduler: self.scheduler.clone() }
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.shared.workers.len()
    }

    /// The number of tasks that have waited (returned `Pending`) at least once and not yet
    /// ended: the tasks shutdown reaches through the registry. A task that has not waited yet is
    /// in a queue, where shutdown finds it, and costs the registry nothing.
    pub fn registered_tasks(&self) -> usize {
        self.shared.registry.len()
    }

    /// Runs `future` on the calling thread until it completes, parking through `park` while it
    /// waits; the workers run the tasks meanwhile. Inside `future`, this executor is current, so
    /// `eddy_task::spawn` reaches it.
    ///
    /// ```
    /// use eddy_steal::Executor;
    /// use eddy_task::ThreadPark;
    ///
    /// let ex = Executor::builder().workers(2).build()?;
    /// let sum = ex.block_on(&mut ThreadPark::new(), async {
    ///     let tasks: Vec<_> = (0..10u64).map(|i| eddy_task::spawn(async move { i })).collect();
    ///     let mut sum = 0;
    ///     for task in tasks {
    ///         sum += task.await.unwrap();
    ///     }
    ///     sum
    /// });
    /// assert_eq!(sum, 45);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn block_on<T>(&self, park: &mut impl Park, future: impl Future<Output = T>) -> T {
        let _enter = enter(Rc::new(self.handle()));
        let waker = park.waker();
        let mut cx = TaskContext::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            park.park(None);
        }
    }

    /// Runs `future` on the calling thread, sleeping the thread while it waits (no I/O driver):
    /// works under this crate alone.
    pub fn run<T>(&self, future: impl Future<Output = T>) -> T {
        self.block_on(&mut ThreadPark::new(), future)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        let shared = &self.shared;
        shared.closed.store(true, Ordering::SeqCst);
        shared.wake_all();
        for thread in self.threads.drain(..) {
            // A worker thread never panics (task panics are caught), so a join error is a bug
            // elsewhere; shutdown goes on regardless.
            let _ = thread.join();
        }
        let _enter = enter(Rc::new(self.handle()));
        loop {
            let wakers = shared.registry.close();
            let mut progressed = !wakers.is_empty();
            for waker in wakers {
                waker.wake();
            }
            for runnable in shared.drain() {
                drop(runnable);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        shared.dead.store(true, Ordering::SeqCst);
        // A wake that raced with the last drain.
        for runnable in shared.drain() {
            drop(runnable);
        }
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("workers", &self.workers())
            .field("registered_tasks", &self.registered_tasks())
            .field("closed", &self.shared.closed.load(Ordering::Relaxed))
            .finish()
    }
}

#[cfg(all(test, not(loom), target_os = "linux"))]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::task::{Context, Poll, Waker};

    use super::*;

    /// Waits once: registers its waker, then completes when polled again.
    struct Once {
        polled: bool,
        wakers: StdArc<Mutex<Vec<Waker>>>,
    }

    impl Future for Once {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if std::mem::replace(&mut self.polled, true) {
                return Poll::Ready(());
            }
            self.wakers.lock().unwrap().push(cx.waker().clone());
            Poll::Pending
        }
    }

    /// Spawns from outside mark the spawning thread busy (the workers then keep off its CPU);
    /// wakes from outside do not.
    #[test]
    fn spawns_from_outside_mark_a_busy_spawner_and_wakes_do_not() {
        // A thread of its own: spawns are counted per thread.
        std::thread::spawn(|| {
            let ex = Executor::builder().workers(1).build().unwrap();
            let handle = ex.handle();
            let wakers = StdArc::new(Mutex::new(Vec::new()));
            let waiting = 31;
            for _ in 0..waiting {
                handle.spawn(Once { polled: false, wakers: wakers.clone() }).detach();
            }
            while wakers.lock().unwrap().len() < waiting {
                std::thread::yield_now();
            }
            for waker in wakers.lock().unwrap().drain(..) {
                waker.wake();
            }
            assert_eq!(ex.shared.busy_spawner(), None, "31 spawns and 31 wakes publish nothing");
            // The 32nd spawn publishes; the mark lasts 50 µs, so a preempted test looks again.
            let marked = (0..100).any(|_| {
                for _ in 0..32 {
                    handle.spawn(async {}).detach();
                }
                ex.shared.busy_spawner().is_some()
            });
            assert!(marked, "a burst of spawns marks the spawner");
        })
        .join()
        .unwrap();
    }
}
