//! The contract between tasks and executors, and the "current executor" hook.
//!
//! An executor implements two traits:
//!
//! - [`Spawn`] is its thread-side face. It is installed as the current executor with [`enter`]
//!   on every thread that runs its tasks, for as long as it runs them. `eddy::spawn` reaches it
//!   through [`current_executor`]; the task layer calls it to register a new task and to
//!   unregister it when its future is dropped.
//! - [`Schedule`] is its wake path. It is `Send + Sync` because a task may be woken from any
//!   thread; it receives a [`Runnable`] each time a task becomes ready and must queue it (never
//!   run it inline, never lose it).
//!
//! # Obligations of an executor
//!
//! 1. Run each queued [`Runnable`] with [`Runnable::run`] while its [`Spawn`] is entered on that
//!    thread, so that spawns, [`current`](crate::current) and registration inside tasks work.
//! 2. Keep a registry of tasks that wait ([`Spawn::register`], called by a task the first time
//!    it returns `Pending`) so that shutdown can reach tasks that are parked on a waker: at
//!    shutdown, report [`Spawn::is_closed`], refuse new registrations, wake every registered
//!    task, and drop every runnable that reaches the queues. Dropping a runnable drops its future, so
//!    its `Drop` cleanup runs and its awaiter sees a cancelled [`JoinError`](crate::JoinError).
//! 3. Report [`Spawn::is_local`] truthfully. A `!Send` future is only ever polled or dropped on
//!    the thread that spawned it; the task layer checks this itself (a foreign-thread poll fails
//!    the task, a foreign-thread drop leaks the future), so a wrong answer is a bug, not
//!    undefined behaviour.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

pub use async_task::ScheduleInfo;

use crate::header::{Header, UNREGISTERED};
use crate::raw::CurrentTask;
use crate::TaskId;

/// A task that is ready to be polled, handed to an executor's [`Schedule`].
///
/// Running it polls the task's future once; dropping it without running cancels the task and
/// drops its future on the current thread.
pub struct Runnable(ManuallyDrop<async_task::Runnable<Header>>);

impl Runnable {
    pub(crate) fn new(runnable: async_task::Runnable<Header>) -> Runnable {
        Runnable(ManuallyDrop::new(runnable))
    }

    /// Takes the async-task runnable out; `self` is consumed without running its `Drop`.
    fn into_inner(self) -> async_task::Runnable<Header> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never used or dropped again, so the runnable is taken exactly once.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }

    fn header(&self) -> &Header {
        self.0.metadata()
    }

    /// Polls the task once. Returns `true` if the task woke itself while it was being polled
    /// (it has then already been handed to [`Schedule::schedule`] again).
    #[inline]
    pub fn run(self) -> bool {
        let runnable = self.into_inner();
        // The task's future finds its header through `current_header` while it is polled or
        // dropped, which is only ever inside `run` or the runnable's drop.
        let _current = CurrentTask::enter(runnable.metadata());
        runnable.run()
    }

    /// Whether the task has waited (returned `Pending`) since it was spawned: `false` when it is
    /// scheduled for its first run. Executors may use it to tell new work from wakes. It reads
    /// the task's registration, so a task its executor refused to register (the executor was
    /// shutting down) also reads `false`.
    #[inline]
    pub fn has_waited(&self) -> bool {
        self.header().key.load(std::sync::atomic::Ordering::Relaxed) != UNREGISTERED
    }

    /// Hands the task to its executor's scheduler, as a wake would.
    #[inline]
    pub fn schedule(self) {
        self.into_inner().schedule()
    }

    /// Returns a waker that schedules this task.
    pub fn waker(&self) -> Waker {
        self.0.waker()
    }

    /// The id of the task.
    pub fn id(&self) -> TaskId {
        self.header().id()
    }
}

impl Drop for Runnable {
    fn drop(&mut self) {
        // Dropping a runnable drops the task's future, which reads its header from here.
        let _current = CurrentTask::enter(self.header());
        // SAFETY: dropped once, here; `self.0` is not used afterwards.
        unsafe { ManuallyDrop::drop(&mut self.0) }
    }
}

impl fmt::Debug for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Runnable").field(self.header()).finish()
    }
}

/// An executor's wake path: where a task goes when it becomes ready to run.
pub trait Schedule: Send + Sync + 'static {
    /// Queues `runnable` to be run. Called from any thread, once per wake-up.
    ///
    /// `info.woken_while_running` tells that the task woke itself while it was being polled
    /// (a `yield_now`), which a fair executor puts behind other ready tasks.
    fn schedule(&self, runnable: Runnable, info: ScheduleInfo);
}

/// A shared handle to an executor's [`Schedule`]; each task keeps one.
///
/// It is one pointer wide (an `Arc<dyn Schedule>` is two), since every parked task carries it.
/// An executor makes one with [`Scheduler::new`] and hands out clones from
/// [`Spawn::scheduler`]; making one allocates, cloning one does not.
///
/// It is reference-counted like an `Arc`, with one difference: a thread where an executor is
/// entered keeps a few references to that executor's scheduler in reserve, so that a task
/// spawned there takes its reference from the reserve, and a task freed there gives it back,
/// with no atomic operation: two atomic read-modify-writes fewer per task, which made a spawn
/// that runs at once on the local executor about 7% faster.
pub struct Scheduler(NonNull<SchedulerInner>);

struct SchedulerInner {
    refs: AtomicUsize,
    schedule: Arc<dyn Schedule>,
}

// SAFETY: a `Scheduler` is a counted reference to a `SchedulerInner`, which is `Send + Sync`
// (an atomic and an `Arc` of a `Send + Sync` trait object), like `Arc<SchedulerInner>`.
unsafe impl Send for Scheduler {}
// SAFETY: as above.
unsafe impl Sync for Scheduler {}

impl Scheduler {
    /// Wraps an executor's wake path.
    pub fn new(schedule: Arc<dyn Schedule>) -> Scheduler {
        let inner = Box::new(SchedulerInner { refs: AtomicUsize::new(1), schedule });
        Scheduler(NonNull::from(Box::leak(inner)))
    }

    fn inner(&self) -> &SchedulerInner {
        // SAFETY: `self` holds a reference, so the allocation is live.
        unsafe { self.0.as_ref() }
    }

    /// The address of the wrapped [`Schedule`]: equal for every `Scheduler` made from clones
    /// of the same `Arc`. This is what [`Spawn::identity`] returns by default.
    pub fn identity(&self) -> *const () {
        Arc::as_ptr(&self.inner().schedule) as *const ()
    }

    #[inline]
    pub(crate) fn schedule(&self, runnable: Runnable, info: ScheduleInfo) {
        self.inner().schedule.schedule(runnable, info)
    }

    /// Adds `n` references.
    fn acquire(&self, n: usize) {
        // Relaxed, as in `Arc::clone`: a new reference is made from one the caller holds.
        let old = self.inner().refs.fetch_add(n, Ordering::Relaxed);
        if old > isize::MAX as usize {
            // Leaked clones by the billion: a count about to wrap would free a live scheduler.
            std::process::abort();
        }
    }
}

impl Clone for Scheduler {
    fn clone(&self) -> Scheduler {
        self.acquire(1);
        Scheduler(self.0)
    }
}

impl Drop for Scheduler {
    fn drop(&mut self) {
        // Into this thread's reserve, if it keeps one for this scheduler.
        let reserved = RESERVE.try_with(|reserve| reserve.give_back(self)).unwrap_or(false);
        if !reserved {
            // SAFETY: `self` holds one of the references.
            unsafe { release(self.0, 1) };
        }
    }
}

/// Gives back `n` references to `inner`, and frees it if they were the last.
///
/// # Safety
///
/// The caller owns `n` references to `inner`, and does not use them afterwards.
unsafe fn release(inner: NonNull<SchedulerInner>, n: usize) {
    // SAFETY: the caller's references keep the allocation live until the subtraction.
    if unsafe { inner.as_ref() }.refs.fetch_sub(n, Ordering::Release) != n {
        return;
    }
    // As in `Arc`'s drop: every other owner's use happens before the free.
    fence(Ordering::Acquire);
    // SAFETY: those were the last references; the allocation came from `Box::leak` in `new`.
    drop(unsafe { Box::from_raw(inner.as_ptr()) });
}

/// A thread's reserve of references to one scheduler: `count` references to `inner`, owned by
/// the thread, whose [`Scheduler::identity`] is `identity`.
///
/// A task spawned on the thread onto the executor entered there takes its scheduler's reference
/// from the reserve ([`task_scheduler`]), and a scheduler dropped on the thread puts its
/// reference back; so spawning and freeing tasks costs no atomic operation, except one per
/// [`RESERVE_BATCH`] references taken or given back in a row. The reserve is returned when the
/// thread leaves an executor, and when the thread exits.
struct Reserve {
    inner: Cell<*const SchedulerInner>,
    identity: Cell<*const ()>,
    count: Cell<usize>,
}

/// How many references a thread takes into its reserve at once; it gives that many back once it
/// holds twice as many.
const RESERVE_BATCH: usize = 64;

impl Reserve {
    /// A reference taken from the reserve, if it holds one to a scheduler with this identity.
    fn take(&self, identity: *const ()) -> Option<Scheduler> {
        let count = self.count.get();
        if count == 0 || self.identity.get() != identity {
            return None;
        }
        self.count.set(count - 1);
        // SAFETY: non-null: the reserve held a reference to it.
        Some(Scheduler(unsafe { NonNull::new_unchecked(self.inner.get().cast_mut()) }))
    }

    /// Fills the reserve with references to `scheduler`'s allocation, returning those it held, and
    /// takes one.
    fn refill(&self, scheduler: &Scheduler) -> Scheduler {
        self.flush();
        scheduler.acquire(RESERVE_BATCH);
        self.inner.set(scheduler.0.as_ptr());
        self.identity.set(scheduler.identity());
        self.count.set(RESERVE_BATCH - 1);
        Scheduler(scheduler.0)
    }

    /// Puts `scheduler`'s reference into the reserve if the reserve is for its allocation.
    fn give_back(&self, scheduler: &Scheduler) -> bool {
        if self.inner.get() != scheduler.0.as_ptr().cast_const() {
            return false;
        }
        let count = self.count.get() + 1;
        if count < 2 * RESERVE_BATCH {
            self.count.set(count);
        } else {
            // Not the last references: the reserve keeps the others.
            scheduler.inner().refs.fetch_sub(RESERVE_BATCH, Ordering::Release);
            self.count.set(count - RESERVE_BATCH);
        }
        true
    }

    /// Returns every reference the reserve holds.
    fn flush(&self) {
        let count = self.count.replace(0);
        let inner = self.inner.replace(std::ptr::null());
        if let Some(inner) = NonNull::new(inner.cast_mut()).filter(|_| count > 0) {
            // SAFETY: the reserve owned `count` references, and now owns none.
            unsafe { release(inner, count) };
        }
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The scheduler for a task spawned on `executor` from this thread: from the thread's reserve
/// if `executor` is the one entered here, else [`Spawn::scheduler`].
pub(crate) fn task_scheduler<E: Spawn + ?Sized>(executor: &E) -> Scheduler {
    let identity = executor.identity();
    let reserved = RESERVE.try_with(|reserve| {
        reserve.take(identity).or_else(|| {
            // Refill from the scheduler held for the executor entered here, if it is this one.
            let held = HELD.try_with(Cell::take).ok().flatten()?;
            let scheduler = (held.identity() == identity).then(|| reserve.refill(&held));
            let _ = HELD.try_with(|cell| cell.set(Some(held)));
            scheduler
        })
    });
    reserved.ok().flatten().unwrap_or_else(|| executor.scheduler())
}

impl fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Scheduler").field(&self.identity()).finish()
    }
}

/// An executor's thread-side face, through which tasks are created on it.
///
/// See the [module documentation](self) for what an implementation must uphold.
pub trait Spawn: Any {
    /// Returns the scheduler new tasks are bound to: a clone of one [`Scheduler`] the executor
    /// keeps. Called once per spawn, and once per [`enter`].
    fn scheduler(&self) -> Scheduler;

    /// Whether every task of this executor is polled on the thread that spawned it, so that it
    /// may run `!Send` futures.
    fn is_local(&self) -> bool;

    /// Whether the executor has begun shutting down: a task spawned now is cancelled at once.
    fn is_closed(&self) -> bool;

    /// Records a task that is about to wait, so that shutdown can reach it, and returns the key
    /// under which it is registered; `None` means the executor is shutting down, and the task is
    /// then cancelled. `waker` wakes the task.
    ///
    /// Called once per task, from inside its poll, the first time its future returns `Pending`,
    /// on a thread where this executor is entered. A task that completes in its first poll is
    /// never registered: until it has waited, it is always in a queue, where shutdown finds it.
    ///
    /// A key is kept in 32 bits: a key of `u32::MAX` or more leaves the task unregistered (a
    /// slab index gets there only with four billion live tasks).
    ///
    /// Keep a clone of `waker`, not a reference-free copy: the registry's reference is what
    /// keeps alive a task whose future waits on something that dropped its waker. Without one,
    /// async-task frees such a task at the end of its poll without dropping its future, and
    /// shutdown never runs its cleanup.
    fn register(&self, waker: &Waker) -> Option<usize>;

    /// Forgets the task registered under `key`; called when its future has been dropped
    /// (completed, cancelled or aborted), on a thread where this executor is entered.
    fn unregister(&self, key: usize);

    /// Identifies the executor: when a task's future is dropped, the [`Scheduler::identity`] of
    /// the task's scheduler is compared with the entered executor's `identity`, to unregister
    /// from the right one. It must therefore equal `self.scheduler().identity()`, which the
    /// default returns; override it to skip the clone.
    fn identity(&self) -> *const () {
        self.scheduler().identity()
    }

    /// Queues a task just spawned through this `Spawn`, for its first run.
    ///
    /// The default hands `runnable` to the task's [`Schedule`], as a wake would. An executor
    /// whose `Spawn` can reach its queue directly may override it and push `runnable` there,
    /// skipping the wake path's search for the entered executor: a spawn from inside a task is
    /// the commonest schedule there is. The override must queue `runnable` exactly where
    /// [`Schedule::schedule`] would, given the thread it is called on, and never run it inline.
    fn schedule_spawned(&self, runnable: Runnable) {
        schedule_spawned(runnable)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<dyn Spawn>>> = const { RefCell::new(None) };
    /// A clone of the current executor's scheduler, for [`hand_over`].
    static HELD: Cell<Option<Scheduler>> = const { Cell::new(None) };
    /// This thread's reserve of references to the scheduler of the executor entered here.
    static RESERVE: Reserve = const {
        Reserve { inner: Cell::new(std::ptr::null()), identity: Cell::new(std::ptr::null()), count: Cell::new(0) }
    };
    /// The header of the task [`schedule_spawned`] is scheduling on this thread, or null.
    static SPAWNING: Cell<*const Header> = const { Cell::new(std::ptr::null()) };
}

/// Makes `executor` the current executor of this thread until the guard is dropped.
///
/// Guards nest: dropping one restores the executor that was current before.
pub fn enter(executor: Rc<dyn Spawn>) -> EnterGuard {
    let previous_scheduler = HELD.replace(Some(executor.scheduler()));
    let previous = CURRENT.with(|c| c.borrow_mut().replace(executor));
    EnterGuard { previous, previous_scheduler, _not_send: PhantomData }
}

/// Restores the previous current executor when dropped; returned by [`enter`].
#[must_use = "the executor stays current only while the guard lives"]
pub struct EnterGuard {
    previous: Option<Rc<dyn Spawn>>,
    previous_scheduler: Option<Scheduler>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _left_scheduler = HELD.replace(self.previous_scheduler.take());
        // Nothing keeps the references of the executor left: it may be about to shut down.
        let _ = RESERVE.try_with(Reserve::flush);
        // The executor being left is dropped after the borrow ends, since dropping it may run
        // arbitrary code that looks at the current executor.
        let _left = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    }
}

/// Hands a task that became ready to the scheduler in its header; the schedule function of
/// every task.
///
/// The scheduler must stay alive until its `schedule` returns, and the task's reference to it
/// may not: a scheduler that drops the runnable (its executor is gone) may drop the task's last
/// reference, and with it the scheduler's last owner. async-task guards a capturing schedule
/// function with a reference on the task, two atomic operations per wake. Here, when the task
/// belongs to the executor entered on this thread (the common case: a wake from a task of the
/// same executor, a yield), the thread's own clone of that scheduler, taken out of `HELD` for the
/// call, keeps it alive instead; only other wakes pay for the reference.
pub(crate) fn hand_over(runnable: async_task::Runnable<Header>, info: ScheduleInfo) {
    // `try_with`: a wake may come from a thread-local's destructor, after `HELD` is gone.
    let held = HELD.try_with(Cell::take).ok().flatten();
    match held {
        Some(held) if held.identity() == runnable.metadata().scheduler.identity() => {
            held.schedule(Runnable::new(runnable), info);
            // Put back, unless the scheduler entered an executor meanwhile and left one in place.
            let _ = HELD.try_with(|cell| {
                if let Some(other) = cell.replace(Some(held)) {
                    cell.set(Some(other));
                }
            });
        }
        other => {
            if other.is_some() {
                let _ = HELD.try_with(|cell| cell.set(other));
            }
            // A task being spawned is kept alive by the handle its spawner holds.
            let header: *const Header = runnable.metadata();
            let spawning = SPAWNING.try_with(|spawning| spawning.get() == header).unwrap_or(false);
            let _alive = (!spawning).then(|| runnable.waker());
            let scheduler: *const Scheduler = &runnable.metadata().scheduler;
            // SAFETY: `_alive` keeps the task's allocation, and the scheduler in it, alive until
            // the end of this block.
            unsafe { &*scheduler }.schedule(Runnable::new(runnable), info);
        }
    }
}

/// Schedules a task for its first run, while the caller holds its `Task` handle.
///
/// The handle keeps the task's allocation alive, so [`hand_over`] need not take a reference
/// to guard it. That reference would be given back after the task is queued, when another
/// worker may already be running it: a write to a cache line that worker's core owns, on
/// every spawn from outside the executor (the spawner is what bounds `spawn_many_remote`).
pub(crate) fn schedule_spawned(runnable: Runnable) {
    struct Restore(*const Header);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = SPAWNING.try_with(|spawning| spawning.set(self.0));
        }
    }
    let header: *const Header = runnable.header();
    let _restore = SPAWNING.try_with(|spawning| Restore(spawning.replace(header))).ok();
    runnable.schedule();
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// Returns the executor entered on this thread, if any.
pub fn current_executor() -> Option<Rc<dyn Spawn>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Calls `f` with the executor entered on this thread, without cloning it.
///
/// `f` must not enter or leave an executor on this thread.
#[inline]
pub fn with_current_executor<R>(f: impl FnOnce(Option<&dyn Spawn>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_deref()))
}
