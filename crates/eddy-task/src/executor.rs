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
//!    thread, so that spawns and [`current`](crate::current) inside tasks work.
//! 2. Keep a registry of live tasks ([`Spawn::register`]) so that shutdown can reach tasks that
//!    are parked on a waker: at shutdown, refuse new registrations, wake every registered task,
//!    and drop every runnable that reaches the queues. Dropping a runnable drops its future, so
//!    its `Drop` cleanup runs and its awaiter sees a cancelled [`JoinError`](crate::JoinError).
//! 3. Report [`Spawn::is_local`] truthfully. A `!Send` future is only ever polled or dropped on
//!    the thread that spawned it; the task layer checks this itself (a foreign-thread poll fails
//!    the task, a foreign-thread drop leaks the future), so a wrong answer is a bug, not
//!    undefined behaviour.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;

pub use async_task::ScheduleInfo;

use crate::header::Header;
use crate::TaskId;

/// A task that is ready to be polled, handed to an executor's [`Schedule`].
///
/// Running it polls the task's future once; dropping it without running cancels the task and
/// drops its future on the current thread.
pub struct Runnable(pub(crate) async_task::Runnable<Header>);

impl Runnable {
    /// Polls the task once. Returns `true` if the task woke itself while it was being polled
    /// (it has then already been handed to [`Schedule::schedule`] again).
    #[inline]
    pub fn run(self) -> bool {
        self.0.run()
    }

    /// Hands the task to its executor's scheduler, as a wake would.
    #[inline]
    pub fn schedule(self) {
        self.0.schedule()
    }

    /// Returns a waker that schedules this task.
    pub fn waker(&self) -> Waker {
        self.0.waker()
    }

    /// The id of the task.
    pub fn id(&self) -> TaskId {
        self.0.metadata().id
    }

    /// The key under which the task is registered with its executor, or `None` if its
    /// executor deferred the registration (see [`DEFERRED`]).
    pub fn registration(&self) -> Option<usize> {
        let key = self.0.metadata().key.load(Ordering::Relaxed);
        (key != DEFERRED).then_some(key)
    }

    /// Records a deferred registration; call it on the executor's thread before running the
    /// task, so that the task unregisters under `key` when its future is dropped.
    pub fn set_registration(&self, key: usize) {
        self.0.metadata().key.store(key, Ordering::Relaxed);
    }
}

/// What [`Spawn::register`] returns to defer a task's registration: an executor whose registry
/// can only be touched from its own thread registers tasks spawned from other threads when it
/// first dequeues them, with [`Runnable::set_registration`].
pub const DEFERRED: usize = usize::MAX;

impl fmt::Debug for Runnable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Runnable").field(self.0.metadata()).finish()
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
pub type Scheduler = Arc<dyn Schedule>;

/// An executor's thread-side face, through which tasks are created on it.
///
/// See the [module documentation](self) for what an implementation must uphold.
pub trait Spawn: Any {
    /// Returns the scheduler new tasks are bound to. Called once per spawn.
    fn scheduler(&self) -> Scheduler;

    /// Whether every task of this executor is polled on the thread that spawned it, so that it
    /// may run `!Send` futures.
    fn is_local(&self) -> bool;

    /// Records a newly created task, before it is first scheduled, and returns the key under
    /// which it is registered, or [`DEFERRED`] to register it later. `None` means the executor
    /// is shutting down: the task is then cancelled at once.
    fn register(&self, task: &Runnable) -> Option<usize>;

    /// Forgets the task registered under `key`; called when its future has been dropped
    /// (completed, cancelled or aborted), on a thread where this executor is entered.
    fn unregister(&self, key: usize);

    /// Identifies the executor: tasks compare it with the entered executor's when their future
    /// is dropped, to unregister from the right one. A type that delegates to another `Spawn`
    /// must return its delegate's identity.
    fn identity(&self) -> *const () {
        self as *const Self as *const ()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<dyn Spawn>>> = const { RefCell::new(None) };
}

/// Makes `executor` the current executor of this thread until the guard is dropped.
///
/// Guards nest: dropping one restores the executor that was current before.
pub fn enter(executor: Rc<dyn Spawn>) -> EnterGuard {
    let previous = CURRENT.with(|c| c.borrow_mut().replace(executor));
    EnterGuard { previous, _not_send: PhantomData }
}

/// Restores the previous current executor when dropped; returned by [`enter`].
#[must_use = "the executor stays current only while the guard lives"]
pub struct EnterGuard {
    previous: Option<Rc<dyn Spawn>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // The executor being left is dropped after the borrow ends, since dropping it may run
        // arbitrary code that looks at the current executor.
        let _left = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), previous));
    }
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

/// The address that identifies an executor for [`Header::executor`].
pub(crate) fn address<E: Spawn + ?Sized>(executor: &E) -> usize {
    executor.identity() as usize
}
