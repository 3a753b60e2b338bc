//! [`LocalExecutor`] and its queues.
//!
//! # Who touches what
//!
//! - `Local` (behind `Rc`, never leaves the owner thread): the ready queue and LIFO slot, the
//!   registry of tasks that have waited (a task registers from inside its poll, the first time
//!   it returns `Pending`) and the `closed` flag. Borrowed only for single pushes, pops and
//!   registry updates, never across a poll, so wakes and spawns from inside a task always find
//!   them free.
//! - `Shared` (behind `Arc`, held by every task's scheduler): the remote queue and the waker of
//!   whoever drives the executor. Written by any thread, drained by the owner thread.
//!
//! # Order
//!
//! Tasks run in FIFO order, with one exception: the task that a running task spawns or wakes
//! (a message's receiver, a freshly spawned child) goes to the LIFO slot and runs next, while
//! what the two share is still in cache; a task it displaces from the slot goes to the back of
//! the queue. At most `MAX_LIFO_POLLS` tasks in a row come from the slot while others wait, so
//! two tasks that keep waking each other cannot starve the queue. What the main future or a
//! park (I/O, timers) spawns or wakes, and a task that woke itself (`yield_now`), go to the
//! back. Without the slot, a thousand tasks that each spawned a partner and traded one message
//! with it ran all thousand first halves before any partner: the bench suite's `ping_pong_native`
//! on this executor went from 558–564 µs to 470–473 (`docs/BENCHMARKS.md`).
//!
//! # Shutdown
//!
//! Dropping the [`LocalExecutor`]:
//! 1. marks it closed, so new spawns come back already cancelled;
//! 2. with the executor entered (so wakes land in the local queue), takes every registered
//!    task's waker out of the registry and wakes it;
//! 3. drops every runnable in both queues, which drops the futures (their `Drop` may spawn,
//!    which is refused, or wake, which queues) and repeats 2–3 until nothing is left.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use atomic_waker::AtomicWaker;
use concurrent_queue::ConcurrentQueue;
use eddy_task::{enter, Builder, EnterGuard, Park, Runnable, Schedule, ScheduleInfo, Scheduler, Spawn, Task};
use slab::Slab;

/// How many tasks `run` polls before giving its `block_on` a turn.
const BUDGET: usize = 128;

/// How often (in tasks run) the remote queue is drained even when the local one is not empty,
/// so that tasks woken from other threads are not starved by busy local ones.
const REMOTE_INTERVAL: u32 = 61;

/// How many tasks in a row may be taken from the LIFO slot before the queue gets a turn.
const MAX_LIFO_POLLS: u32 = 3;

/// A single-threaded executor: every task runs on the thread that owns it.
///
/// See the [crate documentation](crate) for an overview.
pub struct LocalExecutor {
    local: Rc<Local>,
}

struct Local {
    ready: RefCell<Ready>,
    /// Whether the thread that drives the executor is polling the main future or parking, not
    /// running a task: what is spawned or woken then goes behind the queue, not into the LIFO
    /// slot (see `schedule_here`).
    in_main_turn: Cell<bool>,
    /// A waker for every live task, so that shutdown can reach tasks parked on a waker.
    tasks: RefCell<Slab<Waker>>,
    closed: Cell<bool>,
    /// How many drives of the executor (`run` polls, `block_on`, `try_tick`, nested ones
    /// included) are under way on its thread. While one is, the local queue is popped before
    /// the thread next waits, so a spawn needs no wake.
    driving: Cell<u32>,
    shared: Arc<Shared>,
    /// Made once; every handle and task holds a clone.
    scheduler: Scheduler,
}

struct Shared {
    remote: ConcurrentQueue<Runnable>,
    /// Set when the executor starts shutting down: remote spawns are refused.
    closed: AtomicBool,
    /// Set when shutdown is over: whatever reaches the remote queue is dropped at once.
    dead: AtomicBool,
    /// Woken when a task arrives in `remote`: the waker of the last `run` poll.
    driver: AtomicWaker,
}

impl LocalExecutor {
    /// Creates an executor with no tasks.
    pub fn new() -> LocalExecutor {
        let shared = Arc::new(Shared {
            remote: ConcurrentQueue::unbounded(),
            closed: AtomicBool::new(false),
            dead: AtomicBool::new(false),
            driver: AtomicWaker::new(),
        });
        LocalExecutor {
            local: Rc::new(Local {
                ready: RefCell::new(Ready {
                    queue: VecDeque::new(),
                    lifo: None,
                    ticks: 0,
                    lifo_polls: 0,
                    lifo_tick: 0,
                }),
                in_main_turn: Cell::new(false),
                tasks: RefCell::new(Slab::new()),
                closed: Cell::new(false),
                driving: Cell::new(0),
                scheduler: Scheduler::new(shared.clone()),
                shared,
            }),
        }
    }

    /// Spawns a future, `Send` or not, onto this executor.
    ///
    /// The task starts running once the executor is driven ([`run`](Self::run) or
    /// [`try_tick`](Self::try_tick)). If the executor is being dropped, the task comes back
    /// already cancelled.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        Builder::new().spawn_local_on(&*self.local, future)
    }

    /// Spawns a future configured by `builder` (for example with a name).
    #[track_caller]
    pub fn spawn_with<F>(&self, builder: Builder, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        builder.spawn_local_on(&*self.local, future)
    }

    /// A handle that spawns `Send` futures onto this executor from any thread.
    pub fn handle(&self) -> LocalHandle {
        LocalHandle { shared: self.local.shared.clone(), scheduler: self.local.scheduler.clone() }
    }

    /// Runs one ready task, if there is one. Returns whether a task ran.
    pub fn try_tick(&self) -> bool {
        let _enter = self.local.enter();
        match self.local.pop() {
            Some(runnable) => {
                runnable.run();
                true
            }
            None => false,
        }
    }

    /// Runs the executor's tasks until `future` completes, and returns its output.
    ///
    /// Works under any `block_on`. `future` is polled whenever it is woken, between two tasks,
    /// so it gets its turn like any ready task; after a budget of task polls control returns to
    /// the `block_on`, so the I/O and timers it drives make progress too. Inside `future` and
    /// inside the tasks, this executor is the current one, so `eddy_task::spawn` and
    /// `spawn_local` reach it.
    pub async fn run<T>(&self, future: impl Future<Output = T>) -> T {
        let mut future = pin!(future);
        let main = Arc::new(MainWake { woken: AtomicBool::new(true), shared: self.local.shared.clone() });
        let main_waker = Waker::from(main.clone());
        poll_fn(|cx| self.poll_run(future.as_mut(), &main, &main_waker, cx)).await
    }

    /// Runs the executor on this thread until `future` completes, parking through `park`
    /// whenever no task is ready.
    ///
    /// Unlike [`run`](Self::run), this owns the thread's loop: the executor stays entered while
    /// it parks, so when `park` is an I/O driver (as in the `eddy` facade), the wakes it delivers
    /// go straight into the local queue. Between batches of tasks it calls
    /// `park.park(Some(Duration::ZERO))` so that I/O and timers are not starved by busy tasks.
    ///
    /// ```
    /// use eddy_local::LocalExecutor;
    /// use eddy_task::ThreadPark;
    ///
    /// let ex = LocalExecutor::new();
    /// let task = ex.spawn(async { 5 });
    /// assert_eq!(ex.block_on(&mut ThreadPark::new(), task).unwrap(), 5);
    /// ```
    pub fn block_on<T>(&self, park: &mut impl Park, future: impl Future<Output = T>) -> T {
        let local = &self.local;
        let _enter = local.enter();
        let mut future = pin!(future);
        let park_waker = park.waker();
        let main = Arc::new(MainWake { woken: AtomicBool::new(true), shared: local.shared.clone() });
        let main_waker = Waker::from(main.clone());
        let mut cx = Context::from_waker(&main_waker);
        loop {
            local.shared.driver.register(&park_waker);
            let mut budget = BUDGET;
            let idle = loop {
                if main.woken.load(Ordering::Acquire) {
                    main.woken.store(false, Ordering::Release);
                    if let Poll::Ready(output) = local.main_turn(|| future.as_mut().poll(&mut cx)) {
                        return output;
                    }
                }
                if budget == 0 {
                    break false;
                }
                match local.pop() {
                    Some(runnable) => {
                        runnable.run();
                        budget -= 1;
                    }
                    None if main.woken.load(Ordering::Acquire) => {}
                    None => break true,
                }
            };
            // Idle: sleep until a wake. Busy: only pick up ready I/O and timers, then go on.
            local.main_turn(|| park.park(if idle { None } else { Some(Duration::ZERO) }));
        }
    }

    fn poll_run<T>(
        &self,
        mut future: Pin<&mut impl Future<Output = T>>,
        main: &MainWake,
        main_waker: &Waker,
        cx: &mut Context<'_>,
    ) -> Poll<T> {
        let local = &self.local;
        let _enter = local.enter();
        // Registered before anything runs, so that a wake arriving while this poll is under way
        // (a task sent to the remote queue, or the main future woken) leads to another poll.
        local.shared.driver.register(cx.waker());
        let mut budget = BUDGET;
        loop {
            if main.woken.load(Ordering::Acquire) {
                main.woken.store(false, Ordering::Release);
                let poll = local.main_turn(|| future.as_mut().poll(&mut Context::from_waker(main_waker)));
                if let Poll::Ready(output) = poll {
                    return Poll::Ready(output);
                }
            }
            if budget == 0 {
                // Work is left: ask to be polled again once the `block_on` has had a turn.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            match local.pop() {
                Some(runnable) => {
                    runnable.run();
                    budget -= 1;
                }
                // Idle, unless the main future was woken by the last task to run.
                None if main.woken.load(Ordering::Acquire) => {}
                None => return Poll::Pending,
            }
        }
    }
}

/// The waker of `run`'s main future: records that it was woken, then wakes the `block_on`.
struct MainWake {
    woken: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.shared.driver.wake();
    }
}

impl Default for LocalExecutor {
    fn default() -> LocalExecutor {
        LocalExecutor::new()
    }
}

impl fmt::Debug for LocalExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalExecutor")
            .field("registered_tasks", &self.local.tasks.borrow().len())
            .field("ready", &(self.local.ready.borrow().len() + self.local.shared.remote.len()))
            .field("closed", &self.local.closed.get())
            .finish()
    }
}

thread_local! {
    /// The local executor driven innermost on this thread, or null: where a wake on this
    /// thread looks first. Kept apart from the current executor of `eddy_task`, which a wake
    /// would have to borrow and downcast.
    static DRIVEN: Cell<*const Local> = const { Cell::new(std::ptr::null()) };
}

/// The executor entered, counted as driven and made the innermost driven one on this thread,
/// until dropped.
struct Driving<'a> {
    local: &'a Local,
    previous: *const Local,
    _enter: EnterGuard,
}

impl Drop for Driving<'_> {
    fn drop(&mut self) {
        self.local.driving.set(self.local.driving.get() - 1);
        let _ = DRIVEN.try_with(|driven| driven.set(self.previous));
    }
}

impl Local {
    /// Enters the executor on this thread (see [`eddy_task::enter`]) and counts a drive.
    fn enter(self: &Rc<Local>) -> Driving<'_> {
        let _enter = enter(self.clone());
        let previous = DRIVEN.with(|driven| driven.replace(Rc::as_ptr(self)));
        self.driving.set(self.driving.get() + 1);
        Driving { local: self, previous, _enter }
    }

    /// Runs `f` (a poll of the main future, or a park) as the main turn, so that what it spawns
    /// or wakes goes behind the queue. Marked on these turns, which are rarer than task polls.
    fn main_turn<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Restores the flag as `f` returns or unwinds: a main future that panicked must not
        /// leave every later spawn and wake behind the queue.
        struct Restore<'a>(&'a Cell<bool>, bool);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        // Restored, not cleared: a task may drive this executor itself (a nested drive).
        let _restore = Restore(&self.in_main_turn, self.in_main_turn.replace(true));
        f()
    }

    /// Queues a task spawned or woken on this thread. The task that a running task spawned or
    /// woke goes to the LIFO slot, and the one it displaces to the back of the queue. Any other
    /// goes to the back of the queue: one spawned or woken by the main future or by I/O and
    /// timers, or with `to_back` (a task that woke itself, a spawn while nothing drives).
    #[inline(always)]
    fn schedule_here(&self, runnable: Runnable, to_back: bool) {
        if !to_back && !self.in_main_turn.get() {
            self.schedule_lifo(runnable);
        } else {
            self.ready.borrow_mut().queue.push_back(runnable);
        }
    }

    /// Puts `runnable` in the LIFO slot, and the task it displaces behind the queue. Kept out
    /// of `schedule_here`, whose other path (a task that yielded) is as busy.
    #[inline(never)]
    fn schedule_lifo(&self, runnable: Runnable) {
        let mut ready = self.ready.borrow_mut();
        if let Some(displaced) = ready.lifo.replace(runnable) {
            ready.queue.push_back(displaced);
        }
    }

    /// The next task to run: the LIFO slot's (at most `MAX_LIFO_POLLS` in a row while the
    /// queue holds others), then the local queue, with the remote queue drained into it when
    /// the local one is empty and every `REMOTE_INTERVAL` pops.
    fn pop(&self) -> Option<Runnable> {
        let mut ready = self.ready.borrow_mut();
        ready.ticks = ready.ticks.wrapping_add(1);
        if ready.ticks % REMOTE_INTERVAL == 0 {
            self.shared.drain_into(&mut ready.queue);
        }
        if ready.lifo.is_some() {
            if let Some(runnable) = ready.pop_lifo() {
                return Some(runnable);
            }
        }
        if let Some(runnable) = ready.queue.pop_front() {
            return Some(runnable);
        }
        self.shared.drain_into(&mut ready.queue);
        ready.queue.pop_front()
    }
}

/// The tasks ready to run on the owner thread.
struct Ready {
    queue: VecDeque<Runnable>,
    /// The task that the running task last spawned or woke: it runs next (see `schedule_here`).
    lifo: Option<Runnable>,
    /// Pops so far (wrapping).
    ticks: u32,
    /// How many tasks in a row were taken from `lifo`, as of pop number `lifo_tick`.
    lifo_polls: u32,
    lifo_tick: u32,
}

impl Ready {
    fn len(&self) -> usize {
        self.queue.len() + usize::from(self.lifo.is_some())
    }

    /// The LIFO slot's task if it may run now (pop number `ticks`); otherwise it goes behind
    /// the queue. Kept out of `pop`, which stays small for the commoner pops from the queue.
    #[inline(never)]
    fn pop_lifo(&mut self) -> Option<Runnable> {
        let runnable = self.lifo.take()?;
        // Counted from the last pop: a streak ends at any pop that is not from the slot, which
        // thus needs no write of its own.
        let streak = if self.lifo_tick == self.ticks.wrapping_sub(1) { self.lifo_polls } else { 0 };
        if streak >= MAX_LIFO_POLLS && !self.queue.is_empty() {
            self.queue.push_back(runnable);
            return None;
        }
        // A new streak starts if the queue held nothing to let ahead of it.
        self.lifo_polls = if streak >= MAX_LIFO_POLLS { 1 } else { streak + 1 };
        self.lifo_tick = self.ticks;
        Some(runnable)
    }
}

impl Shared {
    /// Moves the tasks woken from other threads into `queue`.
    #[inline(always)]
    fn drain_into(&self, queue: &mut VecDeque<Runnable>) {
        if !self.remote.is_empty() {
            self.drain_remote(queue);
        }
    }

    #[inline(never)]
    fn drain_remote(&self, queue: &mut VecDeque<Runnable>) {
        queue.extend(self.remote.try_iter());
    }

    /// A wake from another thread, or from this one while the executor is not driven here.
    /// Kept out of `schedule`, so that its fast path saves no registers for this one.
    #[inline(never)]
    fn schedule_remote(&self, runnable: Runnable) {
        // An unbounded queue that is never closed always accepts.
        let _ = self.remote.push(runnable);
        if self.dead.load(Ordering::SeqCst) {
            // Shutdown is over (or ending while this push happened): nobody will run it.
            // Only `Send` tasks can be woken from here at this point, so dropping is safe.
            for runnable in self.remote.try_iter() {
                drop(runnable);
            }
            return;
        }
        self.driver.wake();
    }
}

impl Spawn for Local {
    fn scheduler(&self) -> Scheduler {
        self.scheduler.clone()
    }

    fn is_local(&self) -> bool {
        true
    }

    fn is_closed(&self) -> bool {
        self.closed.get()
    }

    fn register(&self, waker: &Waker) -> Option<usize> {
        if self.closed.get() {
            return None;
        }
        let mut tasks = self.tasks.borrow_mut();
        if tasks.len() == tasks.capacity() {
            // Grow by a quarter, not by doubling: a slab only grows, so its spare room is memory
            // every parked task pays for (up to 24 bytes each after a doubling, 6 at most now).
            let more = tasks.len() / 4 + 16;
            tasks.reserve_exact(more);
        }
        Some(tasks.insert(waker.clone()))
    }

    fn unregister(&self, key: usize) {
        // The waker is dropped after the borrow ends: dropping it may schedule the task.
        let waker = self.tasks.borrow_mut().try_remove(key);
        drop(waker);
    }

    fn identity(&self) -> *const () {
        // The same for the executor, its `Local` and its handles: the shared part's address.
        Arc::as_ptr(&self.shared) as *const ()
    }

    fn schedule_spawned(&self, runnable: Runnable) {
        // A `Local` never leaves its thread, so the local queue is free to push to, with no
        // search for the entered executor. Unless a drive is under way (a spawn from a task,
        // the commonest), the task goes behind the queue and whoever drives the executor next
        // is woken, as for a remote wake.
        let driven = self.driving.get() != 0;
        self.schedule_here(runnable, !driven);
        if !driven {
            self.shared.driver.wake();
        }
    }
}

/// A `LocalExecutor` is a [`Spawn`], so `Builder::spawn_on(&executor, ..)` works on it.
impl Spawn for LocalExecutor {
    fn scheduler(&self) -> Scheduler {
        self.local.scheduler()
    }

    fn is_local(&self) -> bool {
        true
    }

    fn is_closed(&self) -> bool {
        self.local.is_closed()
    }

    fn register(&self, waker: &Waker) -> Option<usize> {
        self.local.register(waker)
    }

    fn unregister(&self, key: usize) {
        self.local.unregister(key)
    }

    fn identity(&self) -> *const () {
        self.local.identity()
    }

    fn schedule_spawned(&self, runnable: Runnable) {
        self.local.schedule_spawned(runnable)
    }
}

impl Schedule for Shared {
    fn schedule(&self, runnable: Runnable, info: ScheduleInfo) {
        // Fast path: woken on the owner thread while the executor is driven there.
        let driven = DRIVEN.try_with(Cell::get).unwrap_or(std::ptr::null());
        // SAFETY: `DRIVEN` is non-null only while a `Driving` guard of that `Local` is alive on
        // this thread, and the guard borrows it.
        match unsafe { driven.as_ref() } {
            Some(local) if std::ptr::eq(Arc::as_ptr(&local.shared), self) => {
                local.schedule_here(runnable, info.woken_while_running);
            }
            _ => self.schedule_remote(runnable),
        }
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        let local = &self.local;
        local.closed.set(true);
        local.shared.closed.store(true, Ordering::SeqCst);
        let _enter = local.enter();
        loop {
            let wakers: Vec<Waker> = local.tasks.borrow_mut().drain().collect();
            let mut progressed = !wakers.is_empty();
            for waker in wakers {
                waker.wake();
            }
            while let Some(runnable) = local.pop() {
                drop(runnable);
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        local.shared.dead.store(true, Ordering::SeqCst);
        for runnable in local.shared.remote.try_iter() {
            drop(runnable);
        }
    }
}

/// Spawns `Send` futures onto a [`LocalExecutor`] from any thread; cheap to clone.
///
/// The task runs on the executor's thread, like every task of a local executor. Once the
/// executor is dropped, spawning through the handle returns a task that is already cancelled.
///
/// ```
/// use eddy_local::LocalExecutor;
///
/// let ex = LocalExecutor::new();
/// let handle = ex.handle();
/// let task = std::thread::spawn(move || handle.spawn(async { "from another thread" })).join().unwrap();
/// assert_eq!(futures_lite::future::block_on(ex.run(task)).unwrap(), "from another thread");
/// ```
#[derive(Clone)]
pub struct LocalHandle {
    shared: Arc<Shared>,
    scheduler: Scheduler,
}

impl LocalHandle {
    /// Spawns a `Send` future onto the executor.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Builder::new().spawn_on(self, future)
    }
}

impl Spawn for LocalHandle {
    fn scheduler(&self) -> Scheduler {
        self.scheduler.clone()
    }

    fn is_local(&self) -> bool {
        false
    }

    fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::SeqCst)
    }

    fn register(&self, _waker: &Waker) -> Option<usize> {
        // Never called: a task registers with the executor entered where it runs, which is the
        // executor's own `Spawn` on its thread, never a handle.
        None
    }

    fn unregister(&self, _key: usize) {
        // Never called: an unregistration happens where the executor is entered, whose `Spawn`
        // is the executor's own.
    }

    fn identity(&self) -> *const () {
        Arc::as_ptr(&self.shared) as *const ()
    }
}

impl fmt::Debug for LocalHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalHandle").field("closed", &self.shared.closed.load(Ordering::Relaxed)).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_grows_by_a_quarter_not_by_doubling() {
        let ex = LocalExecutor::new();
        for _ in 0..70_000 {
            ex.local.register(Waker::noop()).unwrap();
        }
        let tasks = ex.local.tasks.borrow();
        assert_eq!(tasks.len(), 70_000);
        assert!(tasks.capacity() <= tasks.len() + tasks.len() / 4 + 16, "capacity {}", tasks.capacity());
    }
}
