//! The workers: where a task is queued when it wakes, how a worker finds its next task, and how
//! idle workers sleep without losing a wakeup.
//!
//! # Queues
//!
//! Each worker has a bounded local queue and a LIFO slot (both `concurrent-queue`s, so other
//! workers can steal from them); all workers share an unbounded injector (the `injector`
//! module: a ring allocated once, then an overflow queue).
//!
//! - A task woken or spawned **on a worker** goes to that worker's LIFO slot, so the task a
//!   running task just woke (a message's receiver, a freshly spawned child) runs next, while its
//!   data is hot in cache. The task it displaces goes to the back of the local queue (and idle
//!   workers are notified, as for any queued task).
//! - A task that woke **itself** (`yield_now`) goes to the back of the local queue. That is not
//!   new work, so only a worker parked with no time limit is told (as for a LIFO push).
//! - A task woken **elsewhere** (another thread, the main future) goes to the injector.
//! - A full local queue moves half of itself to the injector.
//!
//! # Finding work
//!
//! A worker takes, in order: every `GLOBAL_INTERVAL`th tick one task from the injector (so
//! injected tasks are not starved by busy local queues); its LIFO slot, unless it has taken
//! `MAX_LIFO_POLLS` in a row (so two tasks waking each other cannot starve the rest: the slot's
//! task is then moved to the back of the local queue); its local queue; a batch from the injector;
//! then, as a *searching* worker, half of a random victim's queue. At most half of the workers
//! search at once; the last searcher to find work wakes another worker, in case there is more.
//!
//! # LIFO slots
//!
//! The slot's task is meant for its owner, which takes it as soon as the running task's poll
//! returns. Stealing it, or waking a worker to steal it, would bounce a chain of tasks that wake
//! each other between cores (`chained_spawn` on 2 workers went from 1.66× the best peer to
//! 1.13–1.21× with the rules below). But if the running task blocks its thread, the slot's
//! task must still run elsewhere. So:
//!
//! - a push into an empty slot notifies only if some worker is parked with no time limit and
//!   no worker is a *lookout* (below). If other tasks wait (in the pusher's local queue or the
//!   injector), it notifies if any worker sleeps, a lookout included: those are to be shared now;
//! - a thief takes a slot's task only if the owner has started no task since the thief last saw
//!   the slot occupied (`steal_lifo`): then the owner is stuck in one poll;
//! - a worker with nothing to do while another worker's slot is occupied parks for at most
//!   `LIFO_PATIENCE` (1 ms), then looks again. A task behind a blocked worker thus runs within
//!   about two of those;
//! - a worker back from a park that found nothing to run, and goes back to sleep while another
//!   worker is awake and no lookout is, becomes the lookout: it parks `LIFO_PATIENCE` at a time,
//!   looking in between, until every other worker is parked. The busy worker's pushes into its
//!   empty slot then wake nobody. Without it, a chain of tasks woke the idle worker at its first
//!   push into the slot; it found the slot empty between two links, slept with no time limit,
//!   and was woken again, about three times per 1,000-link chain, each time landing on the
//!   chain's CPU and moving off. A worker that ran out of work after running tasks sleeps with
//!   no time limit as before. As a lookout it missed the pushes that share out `ping_pong`'s
//!   tasks: the row's W = 2 cell took 0.99–1.26 ms in six scaling runs (in half of eight with
//!   the rule for waiting tasks above), against 0.78–0.92 ms (W = 1: about 1.35 ms).
//!
//! A task taken from the slot after `MAX_LIFO_POLLS` in a row goes behind the local queue, with
//! a notification (it is now work any worker may steal) — unless the local queue is empty: then
//! the worker would pop it again at once, and it simply runs it.

//! # Sleeping and waking (no lost wakeups)
//!
//! A worker with nothing to do:
//! 1. sets its `sleeping` flag and pushes its index on the `idle` stack (once);
//! 2. stops searching, if it was;
//! 3. issues a `SeqCst` fence and checks every queue again; if any holds a task, or the executor
//!    is closing, it clears `sleeping` and goes back to work;
//! 4. if another worker's LIFO slot is occupied, or it is to be the lookout, parks for at most
//!    `LIFO_PATIENCE`, counted as watching;
//! 5. otherwise counts itself as a deep sleeper, checks again (queues and LIFO slots), and parks
//!    through the park hook with no time limit; it clears `sleeping` when it returns.
//!
//! Whoever queues a task then issues a `SeqCst` fence and, unless some worker is searching (it
//! will find the task), pops indices off `idle` until one whose `sleeping` flag it can clear,
//! counts that worker as *claimed*, and unparks it. The stack gives the worker that went to
//! sleep last: its CPU and caches are the warmest, and the others stay asleep. (First-parked
//! first, work started from outside after each pause ran on each worker in turn.) Either the
//! producer's queue push is visible to the worker's step 3, or the worker's `sleeping` and
//! `idle` entry are visible to the producer. Stale `idle` entries (workers that woke by
//! themselves) are skipped. A push into an empty LIFO slot, or of a task that yielded, does the
//! same only if the deep-sleeper count is not zero and the lookout count is, with the same fence
//! pairing against step 5; a lookout seen counted looks after it counts itself out, behind a
//! `SeqCst` fence that the pusher's read orders after the push.
//!
//! A task that yielded does even that only if, after its push, its worker's local queue holds
//! one task. A worker goes to sleep with no time limit only after seeing every local queue empty
//! (step 5), and only the owner pushes into its queue; the queue's head and tail are read and
//! changed with `SeqCst`. So the first push after that look is ordered after it, and the owner's
//! read of the length after its push sees every pop the sleeper saw: it reads one task (or none)
//! and notifies. A worker that looks while the queue holds a task does not go to sleep, so the
//! pushes that find other tasks queued need tell nobody. A check before the push would not do:
//! a thief can empty the queue between the check and the push, while the sleeper looks (a loom
//! model, `idle`'s tests, finds that lost wakeup). Skipping
//! the fence and the two loads on the other yields makes a yield about 4% cheaper at W = 1 and
//! W = 2 (`docs/BENCHMARKS.md`).
//!
//! A task **spawned from outside** the workers is left, in addition, to a worker that an
//! earlier notification claimed and that is not back at work yet: it counts itself out of the
//! claimed count with a read-modify-write when it wakes, and looks at every queue after that,
//! so either the spawner's read of the count comes first and the worker sees the task, or the
//! spawner sees the count drop and notifies as usual. A thread spawning a burst of tasks thus
//! pays one wake, not one per spawn until the first worker is up (each of which, on a machine
//! with few cores, also lands a worker on the spawner's core). A wake from outside, of a task
//! that waited, keeps a notification of its own: a consumer on another thread handing its
//! producers room wants them running at once, and leaving them to one claimed worker made
//! `queue_mpsc` twice as slow.
//!
//! The worker such a spawn claims is, first, the one that last ran on the spawner's CPU, if it
//! sleeps (`worker_on_this_cpu`); else the one that went to sleep last. The spawner has just
//! written the task's memory on that CPU and most often waits for the task next
//! (`block_on(spawn(..))`), and Linux wakes a thread on the CPU it last ran on or on its
//! waker's, here both the spawner's, so the task runs there instead of on a CPU that has to be
//! woken first (tens of microseconds on the virtual machines measured). A chain of 1,000 tasks started from outside
//! (`chained_spawn`, W = 2) took about 150 µs when its worker shared the spawner's CPU and
//! 195–215 µs when not, and the worker that went to sleep last was the spawner's neighbour in
//! about half the runs; with this rule, in more than nine runs of ten.
//!
//! Tasks woken by a worker's own park (its park hook driving I/O and timers, on its thread) are
//! queued with no notification: the worker runs them as soon as the park returns, and, still
//! marked asleep, it would be the first worker a notification claims (an interrupted poller wait
//! per wake, for nothing). Back from a park, or claimed, a worker notifies once if more than one
//! task waits in its LIFO slot and local queue or in the injector. Each claimed worker thus
//! passes the spawns left to it on to the next sleeper until one task or none is left. A worker
//! that moves a share of the injector into its local queue, where they wait behind the task it
//! is about to run (maybe a long poll), notifies once as well. (A claimed worker used to count
//! the other workers' local queues instead, which missed a task on its way from the injector
//! into one: four tasks that each block their worker until all four run, spawned from outside
//! onto four workers, left one task without a worker in about one run of a hundred,
//! `tests/outside_wakes.rs`.)
//!
//! Every `IO_INTERVAL` ticks a busy worker takes a non-blocking turn of its park hook, so I/O and
//! timers are served even when every worker is busy.
//!
//! # Placement
//!
//! Back from a park and every `IO_INTERVAL` ticks, a worker also checks that no other awake
//! worker shares its CPU (moving to a free CPU of its affinity mask if one does), and yields its
//! CPU once to a worker unparked more than `WAKE_PATIENCE` ago that is not back yet: the
//! `placement` module says why (Linux can queue a wakee behind its waker while another CPU
//! idles) and how. A thread outside the workers that spawns a burst of tasks the workers keep up
//! with counts as taking its CPU: workers move off it, even onto another worker's CPU.

use std::marker::PhantomData;
use std::rc::Rc;

use std::sync::OnceLock;
use std::task::Waker;
use std::time::Instant;

use concurrent_queue::{ConcurrentQueue, PushError};
use eddy_task::executor::with_current_executor;
use eddy_task::{enter, Park, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn};

use crate::idle::Idle;
use crate::injector::Injector;
use crate::placement::{self, Outside, Seat};
use crate::registry::Registry;
use crate::sync::{fence, Arc, AtomicBool, AtomicUsize, Ordering};

/// Capacity of each worker's local queue.
pub(crate) const LOCAL_CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
/// Every this many ticks, a worker looks at the injector before its own queues.
const GLOBAL_INTERVAL: u32 = 61;
/// Every this many ticks, a busy worker gives I/O and timers a non-blocking turn.
const IO_INTERVAL: u32 = 61;
/// How many tasks in a row a worker may take from its LIFO slot.
const MAX_LIFO_POLLS: u32 = 3;
/// How long an idle worker waits before looking again at another worker's occupied LIFO slot.
const LIFO_PATIENCE: std::time::Duration = std::time::Duration::from_millis(1);

/// State shared by the executor, its workers and every task's scheduler.
pub(crate) struct Shared {
    pub(crate) injector: Injector<Runnable>,
    pub(crate) workers: Box<[WorkerShared]>,
    /// The sleep/wake protocol's state (see the module docs and the `idle` module).
    idle: Idle,
    /// Set when shutdown begins: workers exit, spawns are refused.
    pub(crate) closed: AtomicBool,
    /// Set when shutdown is over: a late wake drops its task at once.
    pub(crate) dead: AtomicBool,
    pub(crate) registry: Registry,
    /// What the workers' placement timestamps count from.
    epoch: Instant,
    /// Where a thread outside the workers spawns tasks from (see the `placement` module).
    outside: Outside,
}

pub(crate) struct WorkerShared {
    queue: ConcurrentQueue<Runnable>,
    lifo: ConcurrentQueue<Runnable>,
    /// How many tasks the worker has started (wrapping), published for thieves: a LIFO slot
    /// whose owner has not started a task since a thief last saw it occupied is stuck behind a
    /// long poll, and may be stolen.
    started: AtomicUsize,
    /// Set by the worker around its own parks. On its own thread, `schedule_local` reads it:
    /// tasks its park wakes (I/O, timers) are queued without notifying, since the worker itself
    /// is about to run them; it notifies once afterwards if it has more than one (see "Sleeping
    /// and waking"). Other workers read it, as a hint only, to tell a parked worker's stale CPU
    /// from a busy one's (`keep_apart`).
    parked: AtomicBool,
    /// Where the worker runs, and when it was unparked (see the `placement` module).
    seat: Seat,
    /// Unparks the worker; set by the worker thread when it starts.
    pub(crate) unpark: OnceLock<Waker>,
}

impl Shared {
    pub(crate) fn new(workers: usize) -> Shared {
        Shared {
            injector: Injector::new(),
            workers: (0..workers)
                .map(|_| WorkerShared {
                    queue: ConcurrentQueue::bounded(LOCAL_CAPACITY),
                    lifo: ConcurrentQueue::bounded(1),
                    started: AtomicUsize::new(0),
                    parked: AtomicBool::new(false),
                    seat: Seat::new(),
                    unpark: OnceLock::new(),
                })
                .collect(),
            idle: Idle::new(workers),
            closed: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            registry: Registry::new((workers * 4).next_power_of_two()),
            epoch: Instant::now(),
            outside: Outside::new(),
        }
    }

    /// The CPU of a thread outside the workers that is spawning a burst (see `placement`).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn busy_spawner(&self) -> Option<usize> {
        self.outside.busy_cpu(placement::since(self.epoch))
    }

    fn schedule_local(&self, index: usize, runnable: Runnable, yielded: bool) {
        if yielded {
            // Not new work: this worker runs the task again when its turn comes (async-task
            // reschedules a task that woke itself after its poll returned, so this worker is
            // back in its loop). Only a worker parked with no time limit is told, in case the
            // next task blocks this thread; searching and briefly parked workers look by
            // themselves. (A notification per yield costs a contended read-modify-write.) And
            // only the push that leaves one task in the queue tells it: see "Sleeping and
            // waking" for why the others need not.
            self.push_local(index, runnable, false);
            if self.workers[index].queue.len() <= 1 {
                self.unpark_claimed(self.idle.notify_deep(|| false));
            }
            return;
        }
        // Woken by this worker's own park: it runs its queues as soon as the park returns.
        let parked = self.workers[index].parked.load(Ordering::Relaxed);
        match self.workers[index].lifo.force_push(runnable) {
            // This worker will most likely run it next. Only a worker parked with no time limit
            // is told (it would never look), and only if no lookout will; unless other tasks
            // wait too. See "LIFO slots" in the module docs.
            Ok(None) => {
                if !parked {
                    let queued = || !self.workers[index].queue.is_empty() || !self.injector.is_empty();
                    self.unpark_claimed(self.idle.notify_deep(queued));
                }
            }
            Ok(Some(displaced)) => self.push_local(index, displaced, !parked),
            Err(_) => unreachable!("the LIFO slot is never closed"),
        }
    }

    /// Pushes onto `index`'s local queue, overflowing half of it into the injector when full;
    /// notifies idle workers if `notify` or if it overflowed.
    fn push_local(&self, index: usize, runnable: Runnable, notify: bool) {
        let queue = &self.workers[index].queue;
        let mut notify = notify;
        if let Err(PushError::Full(runnable)) = queue.push(runnable) {
            // Move half of the local queue to the injector, where every worker can see it.
            for _ in 0..LOCAL_CAPACITY / 2 {
                match queue.pop() {
                    Ok(task) => self.injector.push(task),
                    Err(_) => break,
                }
            }
            self.injector.push(runnable);
            notify = true;
        }
        if notify {
            self.notify();
        }
    }

    /// Registers a task that is about to wait (see [`Spawn::register`]), in the registry shard
    /// `hint` picks; refused once the executor is closing.
    fn register(&self, hint: usize, waker: &Waker) -> Option<usize> {
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        self.registry.register(hint, waker.clone())
    }

    /// Makes sure some worker will look at newly queued work.
    pub(crate) fn notify(&self) {
        self.unpark_claimed(self.idle.notify());
    }

    /// Unparks the worker a notification claimed, if it claimed one.
    fn unpark_claimed(&self, claimed: Option<usize>) {
        if let Some(index) = claimed {
            self.unpark(index);
        }
    }

    fn unpark(&self, index: usize) {
        if let Some(unpark) = self.workers[index].unpark.get() {
            self.workers[index].seat.unparked(self.epoch);
            unpark.wake_by_ref();
        }
    }

    /// The worker that last published the calling thread's CPU (see the `placement` module).
    fn worker_on_this_cpu(&self) -> Option<usize> {
        let cpu = placement::current_cpu()?;
        self.workers.iter().position(|w| w.seat.cpu() == Some(cpu))
    }

    /// Wakes every worker (shutdown).
    pub(crate) fn wake_all(&self) {
        for index in 0..self.workers.len() {
            self.idle.wake_for_shutdown(index);
            self.unpark(index);
        }
    }

    /// Whether a queue holds a task: the injector, a local queue, or `index`'s own LIFO slot.
    fn has_work(&self, index: usize) -> bool {
        !self.injector.is_empty()
            || !self.workers[index].lifo.is_empty()
            || self.workers.iter().any(|w| !w.queue.is_empty())
    }

    /// Whether another worker's LIFO slot holds a task.
    fn lifo_elsewhere(&self, index: usize) -> bool {
        self.workers.iter().enumerate().any(|(i, w)| i != index && !w.lifo.is_empty())
    }

    /// Takes every queued runnable out of the executor (shutdown).
    pub(crate) fn drain(&self) -> Vec<Runnable> {
        let mut all: Vec<Runnable> = self.injector.drain().collect();
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
            let entered = current.and_then(|c| (c as &dyn std::any::Any).downcast_ref::<WorkerSpawn>())?;
            std::ptr::eq(Arc::as_ptr(&entered.handle.shared), self).then_some(entered.index)
        });
        match worker {
            Some(index) => self.schedule_local(index, runnable, info.woken_while_running),
            None => {
                let spawned = !runnable.has_waited();
                self.injector.push(runnable);
                if spawned {
                    self.outside.spawned(self.epoch);
                }
                if self.dead.load(Ordering::SeqCst) {
                    // Shutdown ended while this was pushed: nobody will run it.
                    for runnable in self.drain() {
                        drop(runnable);
                    }
                    return;
                }
                // See "Sleeping and waking" for why a spawn and a wake differ here.
                let claimed = if spawned {
                    self.idle.notify_spawn(|| self.worker_on_this_cpu())
                } else {
                    self.idle.notify()
                };
                self.unpark_claimed(claimed);
            }
        }
    }
}

/// Spawns onto an [`Executor`](crate::Executor) from any thread; cheap to clone.
///
/// A handle does not keep the executor running: once the executor is dropped, spawning through
/// the handle returns a task that is already cancelled. The executor also enters a handle as
/// the current executor on a thread in `block_on`; a worker thread enters a private spawner of
/// its own instead, so that spawns and wakes there take the worker's local path.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) scheduler: Scheduler,
}

/// What a worker enters as its current executor: a handle with the worker's index, so that
/// wakes and spawns on the worker's thread take the local path.
///
/// It is the proof that the code calling it runs on worker `index`'s thread: it is made only
/// by [`run`] on that thread, it is not `Send`, and no code outside this crate can name it
/// (so none can downcast the current executor to it and keep a clone). Only that worker ever
/// pushes into its LIFO slot and local queue, which the sleeping protocol relies on.
struct WorkerSpawn {
    handle: Handle,
    index: usize,
    _not_send: PhantomData<*const ()>,
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

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    fn register(&self, waker: &Waker) -> Option<usize> {
        self.shared.register(thread_hint(), waker)
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
        f.debug_struct("Handle").field("closed", &self.is_closed()).finish()
    }
}

impl Spawn for WorkerSpawn {
    fn scheduler(&self) -> Scheduler {
        self.handle.scheduler()
    }

    fn is_local(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.handle.is_closed()
    }

    fn register(&self, waker: &Waker) -> Option<usize> {
        self.handle.shared.register(self.index, waker)
    }

    fn unregister(&self, key: usize) {
        self.handle.unregister(key);
    }

    fn identity(&self) -> *const () {
        self.handle.identity()
    }

    fn schedule_spawned(&self, runnable: Runnable) {
        // Where `Shared::schedule` puts a task spawned on this worker, without its search for
        // the entered executor.
        let shared = &self.handle.shared;
        if shared.dead.load(Ordering::Acquire) {
            drop(runnable);
            return;
        }
        shared.schedule_local(self.index, runnable, false);
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

/// How a worker parks.
enum Depth {
    /// For at most `LIFO_PATIENCE`, counted as watching; it looks again after.
    Watch,
    /// With no time limit, counted as a deep sleeper.
    Deep,
}

/// A worker's private state.
struct Worker {
    shared: Arc<Shared>,
    index: usize,
    tick: u32,
    lifo_polls: u32,
    searching: bool,
    rng: u64,
    /// For each victim, its `started` count when this worker last found its LIFO slot occupied
    /// and left it there.
    lifo_seen: Box<[Option<usize>]>,
    /// When this worker last moved to another CPU (see the `placement` module).
    moved: Option<Instant>,
    /// Back from a park, and no task run since.
    woken_idle: bool,
}

/// The body of worker thread `index`: runs tasks until the executor closes.
pub(crate) fn run(handle: Handle, index: usize, mut park: Box<dyn Park>) {
    let shared = handle.shared.clone();
    let _enter = enter(Rc::new(WorkerSpawn { handle, index, _not_send: PhantomData }));
    let _ = shared.workers[index].unpark.set(park.waker());
    let lifo_seen = vec![None; shared.workers.len()].into_boxed_slice();
    let mut worker = Worker {
        shared,
        index,
        tick: 0,
        lifo_polls: 0,
        searching: false,
        rng: 0x2545_F491_4F6C_DD1D ^ index as u64,
        lifo_seen,
        moved: None,
        woken_idle: false,
    };
    worker.keep_apart();
    while !worker.shared.closed.load(Ordering::Acquire) {
        worker.tick = worker.tick.wrapping_add(1);
        if worker.tick % IO_INTERVAL == 0 {
            park.park(Some(std::time::Duration::ZERO));
            worker.keep_apart();
            worker.yield_to_late_wakee();
        }
        let next = worker.next_local().or_else(|| worker.search());
        match next {
            Some(runnable) => {
                if worker.searching {
                    worker.stop_searching();
                }
                worker.me().started.store(worker.tick as usize, Ordering::Relaxed);
                worker.woken_idle = false;
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
            if let Some(runnable) = self.shared.injector.pop() {
                return Some(runnable);
            }
        }
        // Looked at before it is popped: concurrent-queue's pop of an empty slot is a failed
        // compare-exchange, a locked instruction on every task a worker takes from its queue.
        // Only this worker pushes into its slot, so one it sees empty stays empty until then.
        let lifo = &self.me().lifo;
        if let Some(runnable) = (!lifo.is_empty()).then(|| lifo.pop().ok()).flatten() {
            if self.lifo_polls < MAX_LIFO_POLLS {
                self.lifo_polls += 1;
                return Some(runnable);
            }
            if self.me().queue.is_empty() {
                // Nothing to let ahead of it: it would be popped right back (see "LIFO slots").
                self.lifo_polls = 0;
                return Some(runnable);
            }
            // Too many in a row from the slot: behind everything already queued it goes.
            self.shared.push_local(self.index, runnable, true);
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
        let injector = &self.shared.injector;
        let first = injector.pop()?;
        let share = injector.len() / self.shared.workers.len() + 1;
        if self.move_to_local(|| injector.pop(), share.min(LOCAL_CAPACITY / 2)) > 0 {
            // Tasks now wait behind the one this worker is about to run, which may block it
            // (see "Sleeping and waking").
            self.shared.notify();
        }
        Some(first)
    }

    /// Moves up to `n` tasks taken with `pop` to this worker's local queue; if the local queue
    /// fills up, the task in hand goes to the injector and the move stops.
    /// Returns how many it moved.
    fn move_to_local(&self, mut pop: impl FnMut() -> Option<Runnable>, n: usize) -> usize {
        for moved in 0..n {
            let Some(runnable) = pop() else { return moved };
            if let Err(PushError::Full(runnable)) = self.me().queue.push(runnable) {
                self.shared.injector.push(runnable);
                return moved;
            }
        }
        n
    }

    /// Steals half of `victim`'s queue, or else its LIFO slot if the victim is stuck.
    fn steal_from(&mut self, victim: usize) -> Option<Runnable> {
        let theirs = &self.shared.workers[victim];
        let available = theirs.queue.len();
        let Ok(first) = theirs.queue.pop() else { return self.steal_lifo(victim) };
        self.move_to_local(|| theirs.queue.pop().ok(), (available / 2).saturating_sub(1));
        Some(first)
    }

    /// Takes `victim`'s LIFO slot only if the victim has started no task since this worker last
    /// saw the slot occupied: then the task that filled it is still in the same poll, maybe
    /// blocking its thread, and the slot's task would wait for it. A victim that is moving on
    /// will run the slot's task next, while its data is hot; stealing it would bounce a chain of
    /// tasks waking each other between cores.
    fn steal_lifo(&mut self, victim: usize) -> Option<Runnable> {
        let theirs = &self.shared.workers[victim];
        if theirs.lifo.is_empty() {
            self.lifo_seen[victim] = None;
            return None;
        }
        let started = theirs.started.load(Ordering::Relaxed);
        if self.lifo_seen[victim] == Some(started) {
            self.lifo_seen[victim] = None;
            return theirs.lifo.pop().ok();
        }
        self.lifo_seen[victim] = Some(started);
        None
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
        if self.shared.has_work(self.index) || self.shared.closed.load(Ordering::SeqCst) {
            self.wake_up(false);
            return;
        }
        if self.shared.lifo_elsewhere(self.index) || self.lookout_wanted() {
            // A LIFO slot's owner will most likely run its task next; look again after a while,
            // in case the owner is stuck in a long poll (`steal_lifo` then takes it). Queued work
            // still wakes this worker at once: it stays announced.
            self.park(park, Depth::Watch);
            return;
        }
        idle.enter_deep();
        if self.shared.has_work(self.index) || self.shared.lifo_elsewhere(self.index) {
            idle.leave_deep();
            self.wake_up(false);
            return;
        }
        self.park(park, Depth::Deep);
    }

    /// Whether this worker, about to sleep, should be the lookout (see "LIFO slots"): it was
    /// woken, or its time was up, and it found nothing to run; some other worker is awake, so may
    /// fill its LIFO slot and then block; and no worker watches yet.
    fn lookout_wanted(&self) -> bool {
        let index = self.index;
        let awake = |(i, w): (usize, &WorkerShared)| i != index && !w.parked.load(Ordering::Relaxed);
        self.woken_idle && !self.shared.idle.watched() && self.shared.workers.iter().enumerate().any(awake)
    }

    /// Parks; see [`wake_up`](Self::wake_up) for what follows.
    fn park(&mut self, park: &mut dyn Park, depth: Depth) {
        let me = self.me();
        let idle = &self.shared.idle;
        me.parked.store(true, Ordering::Relaxed);
        match depth {
            Depth::Watch => {
                idle.enter_watch();
                park.park(Some(LIFO_PATIENCE));
                idle.leave_watch();
            }
            // The worker counted itself as a deep sleeper before, and stops now.
            Depth::Deep => {
                park.park(None);
                idle.leave_deep();
            }
        }
        me.parked.store(false, Ordering::Relaxed);
        self.woken_idle = true;
        self.wake_up(true);
        self.keep_apart();
    }

    /// Back at work after `announce`. A worker that parked, or that a notification claimed,
    /// then wakes another if more than one task waits: tasks its park woke (this worker driving
    /// I/O and timers) were queued without a notification, since one per wake would mostly land
    /// on this very worker, still marked asleep, and interrupt its next wait for nothing; and
    /// spawns from outside may have been left to it while it was getting up
    /// (`Idle::notify_spawn`). Spawns another worker took from the injector into its local queue
    /// were notified for when it took them (`take_from_injector`).
    fn wake_up(&self, parked: bool) {
        self.me().seat.back();
        let claimed = self.shared.idle.cancel(self.index);
        if !(parked || claimed) {
            return;
        }
        if self.me().lifo.len() + self.me().queue.len() + self.shared.injector.len() > 1 {
            self.shared.notify();
        }
    }

    /// Publishes this worker's CPU; moves off it if another awake worker runs there too, or a
    /// thread outside the workers that is spawning a burst they keep up with (see the `placement`
    /// module).
    fn keep_apart(&mut self) {
        let Some(cpu) = placement::current_cpu() else { return };
        let me = self.me();
        me.seat.publish(cpu);
        let index = self.index;
        let workers = &self.shared.workers;
        // A thread outside the workers that spawns tasks about as fast as they run them bounds
        // the burst: its CPU counts as taken. One whose tasks pile up does not.
        let outside = self.shared.outside.busy_cpu(placement::since(self.shared.epoch));
        let outside = outside.filter(|_| self.shared.injector.len() < placement::OUTSIDE_BACKLOG);
        // Whether a worker other than this one, not parked, last ran on `cpu`.
        let taken = |cpu: usize| {
            workers
                .iter()
                .enumerate()
                .any(|(i, w)| i != index && !w.parked.load(Ordering::Relaxed) && w.seat.cpu() == Some(cpu))
        };
        let crowded = taken(cpu) || outside == Some(cpu);
        if !crowded || self.moved.is_some_and(|at| at.elapsed() < placement::MOVE_INTERVAL) {
            return;
        }
        if placement::move_off(&me.seat, cpu, index, taken, outside).is_some() {
            self.moved = Some(Instant::now());
        }
    }

    /// Yields this worker's CPU if a worker unparked more than `WAKE_PATIENCE` ago is not back
    /// yet: it may be queued behind this one (see the `placement` module). Each such unpark is
    /// taken, so it causes one yield at most.
    fn yield_to_late_wakee(&self) {
        let others = self.shared.workers.iter().enumerate().filter(|&(i, _)| i != self.index);
        // The clock is read only while some unpark is pending.
        if !others.clone().any(|(_, w)| w.seat.woken()) {
            return;
        }
        let now = placement::since(self.shared.epoch);
        let late = others.filter(|(_, w)| w.seat.take_late(now)).count();
        if late > 0 {
            std::thread::yield_now();
        }
    }

    fn random(&mut self) -> usize {
        // xorshift64: good enough to spread victims, and free of any shared state.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng as usize
    }
}
