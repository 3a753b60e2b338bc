//! [`wait`]: split tasks into the finished and the pending (asyncio's `wait`).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use eddy_task::Task;

use crate::clock::{Clock, MaybeClock, NoClock};
use crate::set::Set;

/// When [`wait`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnWhen {
    /// As soon as any task finishes.
    FirstCompleted,
    /// As soon as any task fails (panics, is cancelled, or returns `Err`), or all finish.
    FirstException,
    /// When every task has finished (the default).
    #[default]
    AllCompleted,
}

/// Whether a task's value counts as a failure for [`ReturnWhen::FirstException`]: an `Err`
/// does; values of other types do not. Implement it (usually empty) for your own output types.
pub trait Failure {
    /// Whether this value is a failure.
    fn is_failure(&self) -> bool {
        false
    }
}

impl<T, E> Failure for Result<T, E> {
    fn is_failure(&self) -> bool {
        self.is_err()
    }
}

macro_rules! never_failure {
    ($($t:ty),*) => { $(impl Failure for $t {})* };
}

never_failure!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &'static str,
    std::time::Instant,
    std::time::Duration,
    std::time::SystemTime
);

impl<T> Failure for Option<T> {}
impl<T> Failure for Vec<T> {}
impl<T: ?Sized> Failure for Box<T> {}

/// Waits for tasks and returns `(done, pending)`, both in input order (asyncio's `wait`).
///
/// It never cancels anything: the pending tasks are handed back, still running, and the done
/// ones still hold their results. Configure it with [`Wait::return_when`] and
/// [`Wait::timeout`], then await it. An empty input returns `([], [])` at once.
///
/// ```
/// use eddy_combinators::{wait, ReturnWhen};
/// # let ex = eddy_local::LocalExecutor::new();
/// # futures_lite::future::block_on(ex.run(async {
/// let fast = ex.spawn(async { 1 });
/// let slow = ex.spawn(std::future::pending::<i32>());
/// let (done, pending) = wait([fast, slow]).return_when(ReturnWhen::FirstCompleted).await;
/// assert_eq!((done.len(), pending.len()), (1, 1));
/// # }));
/// ```
pub fn wait<T, I>(tasks: I) -> Wait<T, NoClock>
where
    I: IntoIterator<Item = Task<T>>,
{
    wait_with_clock(tasks, NoClock)
}

/// Like [`wait`], with `clock` for [`Wait::timeout`]; the `eddy` facade's `wait` passes eddy's.
pub fn wait_with_clock<T, I, C>(tasks: I, clock: C) -> Wait<T, C>
where
    I: IntoIterator<Item = Task<T>>,
{
    Wait { tasks: tasks.into_iter().collect(), when: ReturnWhen::AllCompleted, timeout: None, clock }
}

/// The builder returned by [`wait`]; await it to wait.
pub struct Wait<T, C> {
    tasks: Vec<Task<T>>,
    when: ReturnWhen,
    timeout: Option<Duration>,
    clock: C,
}

impl<T, C> Wait<T, C> {
    /// Sets when to return.
    pub fn return_when(mut self, when: ReturnWhen) -> Wait<T, C> {
        self.when = when;
        self
    }
}

impl<T, C: Clock> Wait<T, C> {
    /// Returns at the latest `timeout` after it is first awaited, with what is done by then.
    pub fn timeout(mut self, timeout: Duration) -> Wait<T, C> {
        self.timeout = Some(timeout);
        self
    }
}

impl<T, C> fmt::Debug for Wait<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("return_when", &self.when)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<T: Failure + 'static, C: MaybeClock> IntoFuture for Wait<T, C> {
    type Output = (Vec<Task<T>>, Vec<Task<T>>);
    type IntoFuture = WaitFuture<T, C>;

    fn into_future(self) -> WaitFuture<T, C> {
        let mut set = Set::new();
        for task in self.tasks {
            set.push(task);
        }
        let sleep = self.timeout.and_then(|d| self.clock.timer(Instant::now() + d)).map(Box::pin);
        WaitFuture { set, done: Vec::new(), when: self.when, sleep }
    }
}

/// The future of an awaited [`Wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitFuture<T, C: MaybeClock> {
    set: Set<Task<T>>,
    done: Vec<(usize, Task<T>)>,
    when: ReturnWhen,
    sleep: Option<Pin<Box<C::Sleep>>>,
}

impl<T, C: MaybeClock> WaitFuture<T, C> {
    fn finish(&mut self) -> (Vec<Task<T>>, Vec<Task<T>>) {
        let mut done = std::mem::take(&mut self.done);
        done.sort_by_key(|(i, _)| *i);
        let pending = self.set.take_remaining();
        (done.into_iter().map(|(_, t)| t).collect(), pending.into_iter().map(|(_, t)| t).collect())
    }
}

impl<T: Failure + 'static, C: MaybeClock> Future for WaitFuture<T, C> {
    type Output = (Vec<Task<T>>, Vec<Task<T>>);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            let next = this.set.poll_next(cx, |task, cx| {
                task.poll_outcome(cx, |result| result.as_ref().map_or(true, Failure::is_failure))
            });
            match next {
                Poll::Ready(Some((index, failed, task))) => {
                    this.done.push((index, task));
                    let stop = match this.when {
                        ReturnWhen::FirstCompleted => true,
                        ReturnWhen::FirstException => failed,
                        ReturnWhen::AllCompleted => false,
                    };
                    if stop {
                        return Poll::Ready(this.finish());
                    }
                }
                Poll::Ready(None) => return Poll::Ready(this.finish()),
                Poll::Pending => {
                    if let Some(sleep) = this.sleep.as_mut() {
                        if sleep.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(this.finish());
                        }
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<T, C: MaybeClock> fmt::Debug for WaitFuture<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFuture")
            .field("done", &self.done.len())
            .field("pending", &self.set.remaining())
            .finish()
    }
}
