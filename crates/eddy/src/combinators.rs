//! The combinators that take a clock, bound to eddy's timers.

use std::future::Future;

use eddy_combinators::{AsCompleted, Wait};
use eddy_task::Task;

use crate::time::EddyClock;

/// Waits for tasks and returns `(done, pending)` (asyncio's `wait`); it never cancels anything.
///
/// ```
/// use std::time::Duration;
/// use eddy::ReturnWhen;
///
/// eddy::run(async {
///     let fast = eddy::spawn(async { 1 });
///     let slow = eddy::spawn(async { eddy::sleep(Duration::from_secs(60)).await; 2 });
///     let (done, pending) = eddy::wait([fast, slow])
///         .return_when(ReturnWhen::FirstCompleted)
///         .timeout(Duration::from_secs(5))
///         .await;
///     assert_eq!((done.len(), pending.len()), (1, 1));
/// });
/// ```
pub fn wait<T, I>(tasks: I) -> Wait<T, EddyClock>
where
    I: IntoIterator<Item = Task<T>>,
{
    eddy_combinators::wait_with_clock(tasks, EddyClock)
}

/// A `Stream` of the futures' outputs in completion order (asyncio's `as_completed`);
/// `.timeout(d)` ends it with one `Err(TimedOut)` at the deadline.
///
/// ```
/// use eddy::stream::StreamExt;
/// use std::time::Duration;
///
/// eddy::run(async {
///     let delays = [30, 10, 20];
///     let mut done = eddy::as_completed(delays.map(|ms| async move {
///         eddy::sleep(Duration::from_millis(ms)).await;
///         ms
///     }));
///     let mut order = Vec::new();
///     while let Some(ms) = done.next().await {
///         order.push(ms);
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item, EddyClock>
where
    I: IntoIterator,
    I::Item: Future,
{
    eddy_combinators::as_completed_with_clock(futures, EddyClock)
}
