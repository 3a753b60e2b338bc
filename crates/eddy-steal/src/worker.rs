//! The workers: where a task is queued when it wakes, how a worker finds its next task, and how
//! idle workers sleep without losing a wakeup.
//!
//! # Queues
//!
//! Each worker has a bounded local queue and a LIFO slot (both `concurrent-queue`s, so other
//! workers can steal from them); all workers share an unbounded injector.
//!
//! - A task woken or spawned **on a worker** goes to that worker's LIFO slot, so the task a
//!   running task just woke (a message's receiver, a freshly spawned child) runs next, while its
//!   data is hot in cache. The task it displaces goes to the back of the local queue. Either way
//!   idle workers are notified: should the running task block its thread, the slot's task must
//!   still be stolen (a slot nobody is told about would strand it).
//! - A task that woke **itself** (`yield_now`) goes to the back of the local queue.
//! - A task woken **elsewhere** (another thread, the main future) goes to the injector.
//! - A full local queue moves half of itself to the injector.
//!
//! # Finding work
//!
//! A worker takes, in order: every `GLOBAL_INTERVAL`th tick one task from the injector (so
//! injected tasks are not starved by busy local queues); its LIFO slot, unless it has taken
//! `MAX_LIFO_POLLS` in a row (so two tasks waking each other cannot starve the rest: the slot's
//! task is then moved to the back of the local queue); its local queue; a batch from the injector;
//! then, as a *searching* worker, half of a random victim's queue (or its LIFO slot, so a task
//! stuck behind a worker whose thread is blocked can still run). At most half of the workers
//! search at once; the last searcher to find work wakes another worker, in case there is more.
//!
//! # Sleeping and waking (no lost wakeups)
//!
//! A worker with nothing to do:
//! 1. sets its `sleeping` flag and enqueues its index on the `idle` queue (once);
//! 2. stops searching, if it was;
//! 3. issues a `SeqCst` fence and checks every queue again; if any holds a task, or the executor
//!    is closing, it clears `sleeping` and goes back to work;
//! 4. otherwise parks through the park hook, and clears `sleeping` when it returns.
//!
//! Whoever queues a task then issues a `SeqCst` fence and, unless some worker is searching (it
//! will find the task), pops indices off `idle` until one whose `sleeping` flag it can swap from
//! true to false, and unparks that worker. Either the producer's queue push is visible to the
//! worker's step 3, or the worker's `sleeping` and `idle` entry are visible to the producer.
//! Stale `idle` entries (workers that woke by themselves) are skipped by the swap.
//!
//! Every `IO_INTERVAL` ticks a busy worker takes a non-blocking turn of its park hook, so I/O and
//! timers are served even when every worker is busy.

use std::rc::Rc;

use std::sync::OnceLock;
use std::task::Waker;

use concurrent_queue::{ConcurrentQueue, PushError};
use eddy_task::executor::with_current_executor;
use eddy_task::{enter, Park, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn};

use crate::idle::Idle;
use crate::registry::Registry;
use crate::sync::{fence, Arc, AtomicBool, Ordering};

/// Capacity of each worker's local queue.
pub(crate) const LOCAL_CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
/// Every this many ticks, a worker looks at the injector before its own queues.
const GLOBAL_INTERVAL: u32 = 61;
/// Every this many ticks, a busy worker gives I/O and timers a non-blocking turn.
const IO_INTERVAL: u32 = 61;
/// How many tasks in a row a worker may take from its LIFO slot.
const MAX_LIFO_POLLS: u32 = 3;

/// State shared by the executor, its workers and every task's scheduler.
pub(crate) struct Shared {
    pub(crate) injector: ConcurrentQueue<Runnable>,
    pub(crate) workers: Box<[WorkerShared]>,
    /// The sleep/wake protocol's state (see the module docs and the `idle` module).
    idle: Idle,
    /// Set when shutdown begins: workers exit, spawns are refused.
    pub(crate) closed: AtomicBool,
    /// Set when shutdown is over: a late wake drops its task at once.
    pub(crate) dead: AtomicBool,
    pub(crate) registry: Registry,
}

pub(crate) struct WorkerShared {
    queue: ConcurrentQueue<Runnable>,
    lifo: ConcurrentQueue<Runnable>,
    /// Unparks the worker; set by the worker thread when it starts.
    pub(crate) unpark: OnceLock<Waker>,
}

impl Shared {
    pub(crate) fn new(workers: usize) -> Shared {
        Shared {
            injector: ConcurrentQueue::unbounded(),
            workers: (0..workers)
                .map(|_| WorkerShared {
                    queue: ConcurrentQueue::bounded(LOCAL_CAPACITY),
                    lifo: ConcurrentQueue::bounded(1),
                    unpark: OnceLock::new(),
                })
                .collect(),
            idle: Idle::new(workers),
            closed: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            registry: Registry::new((workers * 4).next_power_of_two()),
        }
    }

    fn inject(&self, runnable: Runnable) {
        // Unbounded and never closed: always accepts.
        let _ = self.injector.push(runnable);
    }

    fn schedule_local(&self, index: usize, runnable: Runnable, yielded: bool) {
        if yielded {
            self.push_local(index, runnable);
            return;
        }
        match self.workers[index].lifo.force_push(runnable) {
            // An idle worker must hear of it too: if the task running here blocks its thread,
            // the slot's task can only run if someone steals it.
            Ok(None) => self.notify(),
            Ok(Some(displaced)) => self.push_local(index, displaced),
            Err(_) => unreachable!("the LIFO slot is never closed"),
        }
    }

    fn push_local(&self, index: usize, runnable: Runnable) {
        let queue = &self.workers[index].queue;
        if let Err(PushError::Full(runnable)) = queue.push(runnable) {
            // Move half of the local queue to the injector, where every worker can see it.
            for _ in 0..LOCAL_CAPACITY / 2 {
                match queue.pop() {
                    Ok(task) => self.inject(task),
                    Err(_) => break,
                }
            }
            self.inject(runnable);
        }
        self.notify();
    }

    /// Makes sure some worker will look at newly queued work.
    pub(crate) fn notify(&self) {
        if let Some(index) = self.idle.notify() {
            self.unpark(index);
        }
    }

    fn unpark(&self, index: usize) {
        if let Some(unpark) = self.workers[index].unpark.get() {
            unpark.wake_by_ref();
        }
    }

    /// Wakes every worker (shutdown).
    pub(crate) fn wake_all(&self) {
        for index in 0..self.workers.len() {
            self.idle.cancel(index);
            self.unpark(index);
        }
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.workers.iter().any(|w| !w.queue.is_empty() || !w.lifo.is_empty())
    }

    /// Takes every queued runnable out of the executor (shutdown).
    pub(crate) fn drain(&self) -> Vec<Runnable> {
        let mut all: Vec<Runnable> = self.injector.try_iter().collect();
        for worker in self.workers.iter() {
            all.extend(worker.lifo.try_iter());
            all.extend(worker.queue.try_iter());
        }
        all
    }
}

impl Schedule for Shared {
    fn schedule(&self, runnable: Runnable, info: ScheduleInfo) {
        if self.dead.load(Ordering::Acquire) {
            // Shutdown is over: nobody will run it; dropping it cancels the task.
            drop(runnable);
            return;
        }
        let worker = with_current_executor(|current| {
            let handle = current.and_then(|c| (c as &dyn std::any::Any).downcast_ref::<Handle>())?;
            if std::ptr::eq(Arc::as_ptr(&handle.shared), self) {
                handle.worker
            } else {
                None
            }
        });
        match worker {
            Some(index) => self.schedule_local(index, runnable, info.woken_while_running),
            None => {
                self.inject(runnable);
                if self.dead.load(Ordering::SeqCst) {
                    // Shutdown ended while this was pushed: nobody will run it.
                    for runnable in self.drain() {
                        drop(runnable);
                    }
                    return;
                }
                self.notify();
            }
        }
    }
}

/// Spawns onto an [`Executor`](crate::Executor) from any thread; cheap to clone.
///
/// A handle does not keep the executor running: once the executor is dropped, spawning through
/// the handle returns a task that is already cancelled. The executor also enters a handle as
/// the current executor on each worker (with that worker's index, so that wakes there take the
/// local path) and on a thread in `block_on`.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) scheduler: Scheduler,
    /// The worker this handle is entered on, if any.
    pub(crate) worker: Option<usize>,
}

impl Handle {
    /// Spawns a task on the executor.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> eddy_task::Task<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        eddy_task::spawn_on(self, future)
    }

    /// Whether the executor has begun shutting down.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }
}

impl Spawn for Handle {
    fn scheduler(&self) -> Scheduler {
        self.scheduler.clone()
    }

    fn is_local(&self) -> bool {
        false
    }

    fn register(&self, task: &Runnable) -> Option<usize> {
        if self.shared.closed.load(Ordering::Acquire) {
            return None;
        }
        let hint = self.worker.unwrap_or_else(thread_hint);
        self.shared.registry.register(hint, task.waker())
    }

    fn unregister(&self, key: usize) {
        self.shared.registry.unregister(key);
    }

    fn identity(&self) -> *const () {
        Arc::as_ptr(&self.shared) as *const ()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle").field("worker", &self.worker).field("closed", &self.is_closed()).finish()
    }
}

/// A number that spreads threads other than workers over the registry's shards.
pub(crate) fn thread_hint() -> usize {
    thread_local! {
        static HINT: usize = {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_mul(0x9E37_79B9)
        };
    }
    HINT.with(|h| *h)
}

/// A worker's private state.
struct Worker {
    shared: Arc<Shared>,
    index: usize,
    tick: u32,
    lifo_polls: u32,
    searching: bool,
    rng: u64,
}

/// The body of worker thread `index`: runs tasks until the executor closes.
pub(crate) fn run(handle: Handle, mut park: Box<dyn Park>) {
    let (shared, index) = (handle.shared.clone(), handle.worker.expect("a worker's handle names it"));
    let _enter = enter(Rc::new(handle));
    let _ = shared.workers[index].unpark.set(park.waker());
    let mut worker = Worker {
        shared,
        index,
        tick: 0,
        lifo_polls: 0,
        searching: false,
        rng: 0x2545_F491_4F6C_DD1D ^ index as u64,
    };
    while !worker.shared.closed.load(Ordering::Acquire) {
        worker.tick = worker.tick.wrapping_add(1);
        if worker.tick % IO_INTERVAL == 0 {
            park.park(Some(std::time::Duration::ZERO));
        }
        let next = worker.next_local().or_else(|| worker.search());
        match next {
            Some(runnable) => {
                if worker.searching {
                    worker.stop_searching();
                }
                runnable.run();
            }
            None => worker.sleep(&mut *park),
        }
    }
    if worker.searching {
        worker.stop_searching();
    }
}

impl Worker {
    fn me(&self) -> &WorkerShared {
        &self.shared.workers[self.index]
    }

    fn next_local(&mut self) -> Option<Runnable> {
        if self.tick % GLOBAL_INTERVAL == 0 {
            if let Ok(runnable) = self.shared.injector.pop() {
                return Some(runnable);
            }
        }
        if let Ok(runnable) = self.me().lifo.pop() {
            if self.lifo_polls < MAX_LIFO_POLLS {
                self.lifo_polls += 1;
                return Some(runnable);
            }
            // Too many in a row from the slot: behind everything already queued it goes.
            self.shared.push_local(self.index, runnable);
        }
        self.lifo_polls = 0;
        self.me().queue.pop().ok()
    }

    fn search(&mut self) -> Option<Runnable> {
        if let Some(runnable) = self.take_from_injector() {
            return Some(runnable);
        }
        if !self.start_searching() {
            return None;
        }
        let n = self.shared.workers.len();
        let start = self.random() % n;
        for k in 0..n {
            let victim = (start + k) % n;
            if victim != self.index {
                if let Some(runnable) = self.steal_from(victim) {
                    return Some(runnable);
                }
            }
        }
        self.take_from_injector()
    }

    /// Takes one task from the injector, and moves a fair share of the rest to the local queue.
    fn take_from_injector(&self) -> Option<Runnable> {
        let first = self.shared.injector.pop().ok()?;
        let share = self.shared.injector.len() / self.shared.workers.len() + 1;
        for _ in 0..share.min(LOCAL_CAPACITY / 2) {
            let Ok(runnable) = self.shared.injector.pop() else { break };
            if let Err(PushError::Full(runnable)) = self.me().queue.push(runnable) {
                self.shared.inject(runnable);
                break;
            }
        }
        Some(first)
    }

    /// Steals half of `victim`'s queue (or its LIFO slot if the queue is empty).
    fn steal_from(&self, victim: usize) -> Option<Runnable> {
        let theirs = &self.shared.workers[victim];
        let available = theirs.queue.len();
        let first = theirs.queue.pop().ok().or_else(|| theirs.lifo.pop().ok())?;
        for _ in 1..available / 2 {
            let Ok(runnable) = theirs.queue.pop() else { break };
            if let Err(PushError::Full(runnable)) = self.me().queue.push(runnable) {
                self.shared.inject(runnable);
                break;
            }
        }
        Some(first)
    }

    fn start_searching(&mut self) -> bool {
        if self.searching {
            return true;
        }
        // Limit the searchers to half of the workers (at least one).
        let searching = &self.shared.idle.searching;
        if 2 * searching.load(Ordering::SeqCst) >= self.shared.workers.len().max(2) {
            return false;
        }
        searching.fetch_add(1, Ordering::SeqCst);
        self.searching = true;
        true
    }

    fn stop_searching(&mut self) {
        self.searching = false;
        if self.shared.idle.searching.fetch_sub(1, Ordering::SeqCst) == 1 {
            // The last searcher found work: there may be more, so make sure someone looks.
            self.shared.notify();
        }
    }

    fn sleep(&mut self, park: &mut dyn Park) {
        let idle = &self.shared.idle;
        idle.announce(self.index);
        if self.searching {
            self.searching = false;
            idle.searching.fetch_sub(1, Ordering::SeqCst);
        }
        fence(Ordering::SeqCst);
        if self.shared.has_work() || self.shared.closed.load(Ordering::SeqCst) {
            idle.cancel(self.index);
            return;
        }
        park.park(None);
        idle.cancel(self.index);
    }

    fn random(&mut self) -> usize {
        // xorshift64: good enough to spread victims, and free of any shared state.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng as usize
    }
}
