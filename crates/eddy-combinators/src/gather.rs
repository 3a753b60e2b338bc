//! [`gather`], [`try_gather`], [`gather_limit`], [`race`], [`race_ok`] and [`as_completed`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_lite::Stream;

use crate::clock::{Clock, NoClock, TimedOut};
use crate::set::Set;

type Boxed<F> = Pin<Box<F>>;

fn poll_boxed<F: Future>(future: &mut Boxed<F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    future.as_mut().poll(cx)
}

/// Boxes every future into a new set.
fn boxed_set<I>(futures: I) -> Set<Boxed<I::Item>>
where
    I: IntoIterator,
    I::Item: Future,
{
    let mut set = Set::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    set
}

/// Runs all the futures concurrently and returns their outputs in input order
/// (asyncio's `gather`). An empty input gives an empty `Vec` at once.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let outputs = eddy_combinators::gather((1..=3).map(|i| async move { i * 10 })).await;
/// assert_eq!(outputs, [10, 20, 30]);
/// # });
/// ```
pub fn gather<I>(futures: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let set = boxed_set(futures);
    let outputs = (0..set.remaining()).map(|_| None).collect();
    Gather { set, outputs }
}

/// The future returned by [`gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct Gather<F: Future> {
    set: Set<Boxed<F>>,
    outputs: Vec<Option<F::Output>>,
}

// The outputs are plain values and the futures are boxed: nothing here is ever pinned.
impl<F: Future> Unpin for Gather<F> {}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this.set.poll_next(cx, poll_boxed) {
                Poll::Ready(Some((index, output, _))) => this.outputs[index] = Some(output),
                Poll::Ready(None) => {
                    let outputs = std::mem::take(&mut this.outputs);
                    return Poll::Ready(
                        outputs.into_iter().map(|o| o.expect("every future finished")).collect(),
                    );
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future> fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather").field("remaining", &self.set.remaining()).finish()
    }
}

/// Like [`gather`] for futures of `Result`: the first `Err` is returned at once, and the other
/// futures are dropped (a `Task` among them is cancelled).
///
/// ```
/// # futures_lite::future::block_on(async {
/// let all = eddy_combinators::try_gather((1..=2).map(|i| async move { Ok::<_, String>(i) })).await;
/// assert_eq!(all, Ok(vec![1, 2]));
/// let first_error = eddy_combinators::try_gather((1..=3).map(|i| async move {
///     if i == 2 { Err(format!("item {i} failed")) } else { Ok(i) }
/// }))
/// .await;
/// assert_eq!(first_error, Err("item 2 failed".to_string()));
/// # });
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<I::Item, T>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let set = boxed_set(futures);
    let outputs = (0..set.remaining()).map(|_| None).collect();
    TryGather { set, outputs }
}

/// The future returned by [`try_gather`].
#[must_use = "futures do nothing unless awaited"]
pub struct TryGather<F: Future, T> {
    set: Set<Boxed<F>>,
    outputs: Vec<Option<T>>,
}

impl<F: Future, T> Unpin for TryGather<F, T> {}

impl<F, T, E> Future for TryGather<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this.set.poll_next(cx, poll_boxed) {
                Poll::Ready(Some((index, Ok(value), _))) => this.outputs[index] = Some(value),
                Poll::Ready(Some((_, Err(err), _))) => {
                    this.set.clear();
                    return Poll::Ready(Err(err));
                }
                Poll::Ready(None) => {
                    let outputs = std::mem::take(&mut this.outputs);
                    return Poll::Ready(Ok(outputs
                        .into_iter()
                        .map(|o| o.expect("every future finished"))
                        .collect()));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future, T> fmt::Debug for TryGather<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather").field("remaining", &self.set.remaining()).finish()
    }
}

/// The error of [`gather_limit`] with a limit of zero, which could never make progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroLimit;

impl fmt::Display for ZeroLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("gather_limit needs a limit of at least 1")
    }
}

impl std::error::Error for ZeroLimit {}

/// Like [`gather`], with at most `limit` futures running at once ("fetch many URLs, K at a
/// time"). Futures start in input order as earlier ones finish; outputs come in input order.
///
/// # Errors
///
/// `Err(ZeroLimit)` at once if `limit` is 0, which could never finish.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let pages = eddy_combinators::gather_limit(2, (0..5).map(|i| async move { i })).await;
/// assert_eq!(pages, Ok(vec![0, 1, 2, 3, 4]));
/// assert!(eddy_combinators::gather_limit(0, [async { 1 }]).await.is_err());
/// # });
/// ```
pub fn gather_limit<I>(limit: usize, futures: I) -> GatherLimit<I::IntoIter>
where
    I: IntoIterator,
    I::Item: Future,
{
    GatherLimit { limit, waiting: futures.into_iter(), set: Set::new(), outputs: Vec::new(), started: false }
}

/// The future returned by [`gather_limit`].
#[must_use = "futures do nothing unless awaited"]
pub struct GatherLimit<I: Iterator>
where
    I::Item: Future,
{
    limit: usize,
    waiting: I,
    set: Set<Boxed<I::Item>>,
    outputs: Vec<Option<<I::Item as Future>::Output>>,
    started: bool,
}

impl<I> GatherLimit<I>
where
    I: Iterator,
    I::Item: Future,
{
    fn admit(&mut self) {
        while self.set.remaining() < self.limit {
            let Some(future) = self.waiting.next() else { break };
            self.set.push(Box::pin(future));
            self.outputs.push(None);
        }
    }
}

// The futures not yet started are only moved out of `waiting`, never pinned there; running
// ones are boxed.
impl<I: Iterator> Unpin for GatherLimit<I> where I::Item: Future {}

impl<I> Future for GatherLimit<I>
where
    I: Iterator,
    I::Item: Future,
{
    type Output = Result<Vec<<I::Item as Future>::Output>, ZeroLimit>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.limit == 0 {
            return Poll::Ready(Err(ZeroLimit));
        }
        if !this.started {
            this.started = true;
            this.admit();
        }
        loop {
            match this.set.poll_next(cx, poll_boxed) {
                Poll::Ready(Some((index, output, _))) => {
                    this.outputs[index] = Some(output);
                    this.admit();
                }
                Poll::Ready(None) => {
                    let outputs = std::mem::take(&mut this.outputs);
                    return Poll::Ready(Ok(outputs
                        .into_iter()
                        .map(|o| o.expect("every future finished"))
                        .collect()));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<I> fmt::Debug for GatherLimit<I>
where
    I: Iterator,
    I::Item: Future,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherLimit")
            .field("limit", &self.limit)
            .field("running", &self.set.remaining())
            .finish()
    }
}

/// Returns the output of whichever future finishes first; the others are dropped (a `Task`
/// among them is cancelled).
///
/// # Panics
///
/// Panics if `futures` is empty: there would be no output to return, ever.
///
/// ```
/// # futures_lite::future::block_on(async {
/// let first = eddy_combinators::race([
///     Box::pin(std::future::pending::<&str>()) as std::pin::Pin<Box<dyn std::future::Future<Output = &str>>>,
///     Box::pin(async { "ready" }),
/// ])
/// .await;
/// assert_eq!(first, "ready");
/// # });
/// ```
#[track_caller]
pub fn race<I>(futures: I) -> Race<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    let set = boxed_set(futures);
    assert!(set.remaining() > 0, "`race` needs at least one future: with none, it could never finish");
    Race { set }
}

/// The future returned by [`race`].
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F: Future> {
    set: Set<Boxed<F>>,
}

impl<F: Future> Future for Race<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        match this.set.poll_next(cx, poll_boxed) {
            Poll::Ready(Some((_, output, _))) => {
                this.set.clear();
                Poll::Ready(output)
            }
            Poll::Ready(None) => panic!("`Race` polled after it completed"),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: Future> fmt::Debug for Race<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race").field("remaining", &self.set.remaining()).finish()
    }
}

/// Returns the first `Ok` output (the others are dropped), or, if every future fails, the last
/// `Err` to arrive.
///
/// # Panics
///
/// Panics if `futures` is empty: there would be neither an `Ok` nor an `Err` to return.
#[track_caller]
pub fn race_ok<I, T, E>(futures: I) -> RaceOk<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    let set = boxed_set(futures);
    assert!(set.remaining() > 0, "`race_ok` needs at least one future: with none, it has nothing to return");
    RaceOk { set }
}

/// The future returned by [`race_ok`].
#[must_use = "futures do nothing unless awaited"]
pub struct RaceOk<F: Future> {
    set: Set<Boxed<F>>,
}

impl<F, T, E> Future for RaceOk<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        loop {
            match this.set.poll_next(cx, poll_boxed) {
                Poll::Ready(Some((_, Ok(value), _))) => {
                    this.set.clear();
                    return Poll::Ready(Ok(value));
                }
                Poll::Ready(Some((_, Err(err), _))) if this.set.remaining() == 0 => {
                    return Poll::Ready(Err(err))
                }
                Poll::Ready(Some((_, Err(_), _))) => {}
                Poll::Ready(None) => panic!("`RaceOk` polled after it completed"),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<F: Future> fmt::Debug for RaceOk<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RaceOk").field("remaining", &self.set.remaining()).finish()
    }
}

/// A stream of the futures' outputs in the order they finish (asyncio's `as_completed`).
///
/// ```
/// use futures_lite::StreamExt;
/// # futures_lite::future::block_on(async {
/// let mut done = eddy_combinators::as_completed((1..=2).map(|i| async move { i }));
/// let mut seen = Vec::new();
/// while let Some(value) = done.next().await {
///     seen.push(value);
/// }
/// seen.sort();
/// assert_eq!(seen, [1, 2]);
/// # });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<I::Item, NoClock>
where
    I: IntoIterator,
    I::Item: Future,
{
    as_completed_with_clock(futures, NoClock)
}

/// Like [`as_completed`], with `clock` for [`AsCompleted::timeout`]; the `eddy` facade's
/// `as_completed` passes eddy's.
pub fn as_completed_with_clock<I, C>(futures: I, clock: C) -> AsCompleted<I::Item, C>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted { set: boxed_set(futures), clock }
}

/// The stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F: Future, C = NoClock> {
    set: Set<Boxed<F>>,
    clock: C,
}

impl<F: Future, C: Clock> AsCompleted<F, C> {
    /// Gives up at `timeout` from now: the stream then yields one `Err(TimedOut)` and ends,
    /// dropping the futures that have not finished (asyncio's `as_completed(.., timeout=)`).
    pub fn timeout(self, timeout: Duration) -> AsCompletedTimeout<F, C> {
        let sleep = Box::pin(self.clock.sleep_until(Instant::now() + timeout));
        AsCompletedTimeout { inner: self, sleep: Some(sleep) }
    }
}

impl<F: Future, C: Unpin> Stream for AsCompleted<F, C> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        self.get_mut().set.poll_next(cx, poll_boxed).map(|next| next.map(|(_, output, _)| output))
    }
}

impl<F: Future, C> fmt::Debug for AsCompleted<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted").field("remaining", &self.set.remaining()).finish()
    }
}

/// The stream returned by [`AsCompleted::timeout`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompletedTimeout<F: Future, C: Clock> {
    inner: AsCompleted<F, C>,
    sleep: Option<Pin<Box<C::Sleep>>>,
}

impl<F: Future, C: Clock + Unpin> Stream for AsCompletedTimeout<F, C> {
    type Item = Result<F::Output, TimedOut>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(sleep) = this.sleep.as_mut() else { return Poll::Ready(None) };
        if let Poll::Ready(next) = Pin::new(&mut this.inner).poll_next(cx) {
            return Poll::Ready(next.map(Ok));
        }
        if sleep.as_mut().poll(cx).is_ready() {
            this.sleep = None;
            this.inner.set.clear();
            return Poll::Ready(Some(Err(TimedOut)));
        }
        Poll::Pending
    }
}

impl<F: Future, C: Clock> fmt::Debug for AsCompletedTimeout<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompletedTimeout").field("remaining", &self.inner.set.remaining()).finish()
    }
}
