//! asyncio's queues: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`].
//!
//! All three share one engine, `Core`, over a store:
//!
//! - `Queue` stores items in a `concurrent-queue` (lock-free; a ring buffer when `maxsize` is
//!   small enough to allocate up front, a block list otherwise), so producers and consumers on
//!   different threads do not take a lock.
//! - `LifoQueue` and `PriorityQueue` keep a `Vec` / `BinaryHeap` behind a mutex held for one
//!   push or pop.
//!
//! Waiting uses three `event-listener` events: `not_empty` (getters), `not_full` (putters),
//! `all_done` (`join`). Every successful put notifies one *additional* getter and every get one
//! additional putter, so k items wake k getters even if earlier notified getters have not run
//! yet; a getter or putter that is dropped after being notified passes the notification on.
//! Waiters always re-check the store after waking, so a wake-up that finds nothing is harmless.
//!
//! # Invariants
//!
//! - An item leaves the store only in the poll that returns it: dropping a `get` future, at any
//!   point, loses nothing.
//! - `unfinished` counts items put and not yet `task_done`; it is raised *before* the item becomes
//!   visible, so a consumer's `task_done` can never run ahead of it.
//! - Shutdown closes the store: a put after it fails atomically with the close (no item slips in
//!   behind an immediate shutdown's drain).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

use concurrent_queue::{ConcurrentQueue, PopError, PushError};
use event_listener::{Event, IntoNotification};

/// Above this `maxsize`, `Queue` does not allocate its ring buffer up front: it keeps items in
/// an unbounded block list and counts them instead, so `Queue::new(usize::MAX)` works.
const RING_LIMIT: usize = 1 << 16;

/// Where a queue keeps its items.
trait Store<T> {
    fn push(&self, item: T) -> Result<(), PushError<T>>;
    fn pop(&self) -> Result<T, PopError>;
    fn len(&self) -> usize;
    fn close(&self);
    fn is_closed(&self) -> bool;
}

/// `Queue`'s store: a ring buffer that enforces `maxsize` itself, or a block list with no
/// limit, or a block list plus a count for a limit too large to allocate up front.
struct Fifo<T> {
    items: ConcurrentQueue<T>,
    /// The limit and the places reserved against it, when `items` does not enforce it.
    counted: Option<(usize, AtomicUsize)>,
}

impl<T> Fifo<T> {
    fn new(maxsize: usize) -> Self {
        match maxsize {
            0 => Fifo { items: ConcurrentQueue::unbounded(), counted: None },
            1..=RING_LIMIT => Fifo { items: ConcurrentQueue::bounded(maxsize), counted: None },
            _ => Fifo { items: ConcurrentQueue::unbounded(), counted: Some((maxsize, AtomicUsize::new(0))) },
        }
    }
}

impl<T> Store<T> for Fifo<T> {
    fn push(&self, item: T) -> Result<(), PushError<T>> {
        let Some((limit, len)) = &self.counted else { return self.items.push(item) };
        // Reserve a place first, so concurrent puts cannot overshoot the limit.
        if len.fetch_add(1, SeqCst) >= *limit {
            len.fetch_sub(1, SeqCst);
            return Err(if self.items.is_closed() { PushError::Closed(item) } else { PushError::Full(item) });
        }
        self.items.push(item).inspect_err(|_| {
            len.fetch_sub(1, SeqCst);
        })
    }

    fn pop(&self) -> Result<T, PopError> {
        let item = self.items.pop()?;
        if let Some((_, len)) = &self.counted {
            len.fetch_sub(1, SeqCst);
        }
        Ok(item)
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn close(&self) {
        self.items.close();
    }

    fn is_closed(&self) -> bool {
        self.items.is_closed()
    }
}

/// A collection that decides the order items come out in.
trait Pile<T> {
    fn put(&mut self, item: T);
    fn take(&mut self) -> Option<T>;
    fn size(&self) -> usize;
}

impl<T> Pile<T> for Vec<T> {
    fn put(&mut self, item: T) {
        self.push(item);
    }
    fn take(&mut self) -> Option<T> {
        self.pop()
    }
    fn size(&self) -> usize {
        self.len()
    }
}

impl<T: Ord> Pile<T> for BinaryHeap<Reverse<T>> {
    fn put(&mut self, item: T) {
        self.push(Reverse(item));
    }
    fn take(&mut self) -> Option<T> {
        self.pop().map(|Reverse(item)| item)
    }
    fn size(&self) -> usize {
        self.len()
    }
}

/// `LifoQueue`'s and `PriorityQueue`'s store: a pile behind a mutex.
struct Locked<P> {
    pile: Mutex<(P, bool)>,
    limit: usize,
}

impl<P> Locked<P> {
    fn new(pile: P, maxsize: usize) -> Self {
        Self { pile: Mutex::new((pile, false)), limit: if maxsize == 0 { usize::MAX } else { maxsize } }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (P, bool)> {
        crate::lock(&self.pile)
    }
}

impl<T, P: Pile<T>> Store<T> for Locked<P> {
    fn push(&self, item: T) -> Result<(), PushError<T>> {
        let mut guard = self.lock();
        let (pile, closed) = &mut *guard;
        if *closed {
            Err(PushError::Closed(item))
        } else if pile.size() >= self.limit {
            Err(PushError::Full(item))
        } else {
            pile.put(item);
            Ok(())
        }
    }

    fn pop(&self) -> Result<T, PopError> {
        let mut guard = self.lock();
        let (pile, closed) = &mut *guard;
        match pile.take() {
            Some(item) => Ok(item),
            None if *closed => Err(PopError::Closed),
            None => Err(PopError::Empty),
        }
    }

    fn len(&self) -> usize {
        self.lock().0.size()
    }

    fn close(&self) {
        self.lock().1 = true;
    }

    fn is_closed(&self) -> bool {
        self.lock().1
    }
}

/// Keeps a value on cache lines of its own.
#[repr(align(128))]
struct Padded<T>(T);

/// The engine shared by the three queues.
struct Core<S> {
    store: S,
    maxsize: usize,
    /// Written by every put: on its own cache lines, so that producers bumping it do not evict
    /// the events' pointers that the consumer reads on every get.
    unfinished: Padded<AtomicUsize>,
    not_empty: Event,
    not_full: Event,
    all_done: Event,
}

impl<S> Core<S> {
    fn new(store: S, maxsize: usize) -> Self {
        Self {
            store,
            maxsize,
            unfinished: Padded(AtomicUsize::new(0)),
            not_empty: Event::new(),
            not_full: Event::new(),
            all_done: Event::new(),
        }
    }

    fn try_put<T>(&self, item: T) -> Result<(), PushError<T>>
    where
        S: Store<T>,
    {
        self.unfinished.0.fetch_add(1, SeqCst);
        match self.store.push(item) {
            Ok(()) => {
                self.not_empty.notify(1.additional());
                Ok(())
            }
            Err(err) => {
                self.finish(1);
                Err(err)
            }
        }
    }

    fn try_get<T>(&self) -> Result<T, PopError>
    where
        S: Store<T>,
    {
        let item = self.store.pop()?;
        self.not_full.notify(1.additional());
        Ok(item)
    }

    // `put` and `get` alternate "try" with "listen" and "wait": a miss first starts listening
    // and tries again (a change between the failed try and the listen would otherwise go
    // unnoticed); only a miss while listening waits.

    async fn put<T>(&self, mut item: T) -> Result<(), QueueShutDown<T>>
    where
        S: Store<T>,
    {
        let mut listener = None;
        loop {
            match self.try_put(item) {
                Ok(()) => return Ok(()),
                Err(PushError::Closed(back)) => return Err(QueueShutDown(back)),
                Err(PushError::Full(back)) => item = back,
            }
            match listener.take() {
                Some(listener) => listener.await,
                None => listener = Some(self.not_full.listen()),
            }
        }
    }

    async fn get<T>(&self) -> Result<T, QueueShutDown>
    where
        S: Store<T>,
    {
        let mut listener = None;
        loop {
            match self.try_get() {
                Ok(item) => return Ok(item),
                Err(PopError::Closed) => return Err(QueueShutDown(())),
                Err(PopError::Empty) => {}
            }
            match listener.take() {
                Some(listener) => listener.await,
                None => listener = Some(self.not_empty.listen()),
            }
        }
    }

    /// Marks `n` items done; wakes `join` when none is left.
    fn finish(&self, n: usize) {
        if self.unfinished.0.fetch_sub(n, SeqCst) == n {
            self.all_done.notify(usize::MAX);
        }
    }

    fn task_done(&self) -> Result<(), TaskDoneError> {
        self.unfinished
            .0
            .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError(()))
            .map(|before| {
                if before == 1 {
                    self.all_done.notify(usize::MAX);
                }
            })
    }

    async fn join(&self) {
        loop {
            if self.unfinished.0.load(SeqCst) == 0 {
                return;
            }
            let listener = self.all_done.listen();
            if self.unfinished.0.load(SeqCst) == 0 {
                return;
            }
            listener.await;
        }
    }

    fn shutdown<T>(&self, immediate: bool)
    where
        S: Store<T>,
    {
        self.store.close();
        if immediate {
            let mut dropped = 0;
            while let Ok(item) = self.store.pop() {
                drop(item);
                dropped += 1;
            }
            if dropped > 0 {
                // asyncio counts every removed item as done, so `join` does not wait for them.
                let before =
                    self.unfinished.0.fetch_update(SeqCst, SeqCst, |n| Some(n.saturating_sub(dropped)));
                if before.is_ok_and(|n| n <= dropped) {
                    self.all_done.notify(usize::MAX);
                }
            }
        }
        self.not_empty.notify(usize::MAX);
        self.not_full.notify(usize::MAX);
    }
}

macro_rules! queue_api {
    ($name:ident, [$($bound:tt)*], $new:expr) => {
        impl<T: $($bound)*> $name<T> {
            /// Creates a queue holding at most `maxsize` items; `0` means no limit (asyncio's
            /// default).
            pub fn new(maxsize: usize) -> Self {
                Self { core: Core::new($new(maxsize), maxsize) }
            }

            /// Creates a queue with no size limit.
            pub fn unbounded() -> Self {
                Self::new(0)
            }

            /// Puts an item in, waiting for room if the queue is full.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] with the item if the queue is shut down (also while waiting).
            pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
                self.core.put(item).await
            }

            /// Puts an item in if there is room now.
            ///
            /// # Errors
            ///
            /// [`TryPutError::QueueFull`] or [`TryPutError::QueueShutDown`], with the item.
            pub fn put_nowait(&self, item: T) -> Result<(), TryPutError<T>> {
                self.core.try_put(item).map_err(TryPutError::from)
            }

            /// Takes an item out, waiting for one if the queue is empty. Dropping the future
            /// at any point loses no item.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] if the queue is shut down and has no items left (an immediate
            /// shutdown removes them all).
            pub async fn get(&self) -> Result<T, QueueShutDown> {
                self.core.get().await
            }

            /// Takes an item out if there is one now.
            ///
            /// # Errors
            ///
            /// [`TryGetError::QueueEmpty`], or [`TryGetError::QueueShutDown`] if the queue is shut
            /// down and empty.
            pub fn get_nowait(&self) -> Result<T, TryGetError> {
                self.core.try_get().map_err(TryGetError::from)
            }

            /// Says that an item taken out has been processed (asyncio's `task_done`); when
            /// every item put has been, [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`TaskDoneError`] if called more times than items were put; nothing changes then.
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.task_done()
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done). Returns at once if there is none.
            pub async fn join(&self) {
                self.core.join().await
            }

            /// Shuts the queue down: `put` fails from now on, waiting putters included. With
            /// `immediate == false`, `get` keeps returning the items left and fails once the
            /// queue is empty; with `immediate == true` the items left are removed (and count as
            /// done for [`join`](Self::join)) and every `get` fails at once.
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shutdown(&self) -> bool {
                Store::<T>::is_closed(&self.core.store)
            }

            /// The number of items in the queue now.
            pub fn qsize(&self) -> usize {
                Store::<T>::len(&self.core.store)
            }

            /// The size limit given at creation (0: none).
            pub fn maxsize(&self) -> usize {
                self.core.maxsize
            }

            /// Whether the queue has no items now.
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Whether the queue holds `maxsize` items now (never, without a limit).
            pub fn full(&self) -> bool {
                self.core.maxsize != 0 && self.qsize() >= self.core.maxsize
            }
        }

        impl<T: $($bound)*> Default for $name<T> {
            fn default() -> Self {
                Self::unbounded()
            }
        }

        impl<T: $($bound)*> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("qsize", &self.qsize())
                    .field("maxsize", &self.maxsize())
                    .field("unfinished", &self.core.unfinished.0.load(SeqCst))
                    .field("shutdown", &self.is_shutdown())
                    .finish()
            }
        }
    };
}

/// A first-in, first-out queue for tasks (asyncio's `Queue`), safe to share across threads
/// (put it in an `Arc`).
///
/// ```
/// use eddy_sync::queue::Queue;
/// use std::sync::Arc;
///
/// # let ex = eddy_local::LocalExecutor::new();
/// # ex.block_on(&mut eddy_task::ThreadPark::new(), async {
/// let queue = Arc::new(Queue::new(2));
/// let worker = eddy_task::spawn({
///     let queue = queue.clone();
///     async move {
///         let mut sum = 0;
///         while let Ok(n) = queue.get().await {
///             sum += n;
///             queue.task_done().unwrap();
///         }
///         sum
///     }
/// });
/// for n in 1..=10 {
///     queue.put(n).await.unwrap(); // waits while 2 items are queued
/// }
/// queue.join().await; // every item processed
/// queue.shutdown(false); // the worker's `get` now fails, ending its loop
/// assert_eq!(worker.await.unwrap(), 55);
/// # });
/// ```
pub struct Queue<T> {
    core: Core<Fifo<T>>,
}

queue_api!(Queue, [Sized], Fifo::new);

/// A last-in, first-out queue (asyncio's `LifoQueue`): `get` returns the newest item.
///
/// ```
/// use eddy_sync::queue::LifoQueue;
///
/// let stack = LifoQueue::new(0);
/// stack.put_nowait(1).unwrap();
/// stack.put_nowait(2).unwrap();
/// assert_eq!(stack.get_nowait().unwrap(), 2);
/// ```
pub struct LifoQueue<T> {
    core: Core<Locked<Vec<T>>>,
}

queue_api!(LifoQueue, [Sized], |maxsize| Locked::new(Vec::new(), maxsize));

/// A queue that returns its smallest item first (asyncio's `PriorityQueue`); put
/// `(priority, value)` tuples to order by priority. Items that compare equal come out in no
/// particular order.
///
/// ```
/// use eddy_sync::queue::PriorityQueue;
///
/// let jobs = PriorityQueue::new(0);
/// jobs.put_nowait((2, "later")).unwrap();
/// jobs.put_nowait((1, "first")).unwrap();
/// assert_eq!(jobs.get_nowait().unwrap(), (1, "first"));
/// ```
pub struct PriorityQueue<T: Ord> {
    core: Core<Locked<BinaryHeap<Reverse<T>>>>,
}

queue_api!(PriorityQueue, [Ord], |maxsize| Locked::new(BinaryHeap::new(), maxsize));

/// The queue is shut down (asyncio's `QueueShutDown`). From `put`, it carries the item back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down")
    }
}

impl<T> Error for QueueShutDown<T> {}

/// Why [`put_nowait`](Queue::put_nowait) refused an item; the item comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TryPutError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`).
    QueueFull(T),
    /// The queue is shut down (asyncio's `QueueShutDown`).
    QueueShutDown(T),
}

impl<T> TryPutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            TryPutError::QueueFull(item) | TryPutError::QueueShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, TryPutError::QueueFull(_))
    }
}

impl<T> From<PushError<T>> for TryPutError<T> {
    fn from(err: PushError<T>) -> Self {
        match err {
            PushError::Full(item) => TryPutError::QueueFull(item),
            PushError::Closed(item) => TryPutError::QueueShutDown(item),
        }
    }
}

impl<T> fmt::Debug for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::QueueFull(_) => "QueueFull(..)",
            TryPutError::QueueShutDown(_) => "QueueShutDown(..)",
        })
    }
}

impl<T> fmt::Display for TryPutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryPutError::QueueFull(_) => "the queue is full",
            TryPutError::QueueShutDown(_) => "the queue is shut down",
        })
    }
}

impl<T> Error for TryPutError<T> {}

/// Why [`get_nowait`](Queue::get_nowait) returned no item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGetError {
    /// The queue has no items now (asyncio's `QueueEmpty`).
    QueueEmpty,
    /// The queue is shut down and has no items left (asyncio's `QueueShutDown`).
    QueueShutDown,
}

impl From<PopError> for TryGetError {
    fn from(err: PopError) -> Self {
        match err {
            PopError::Empty => TryGetError::QueueEmpty,
            PopError::Closed => TryGetError::QueueShutDown,
        }
    }
}

impl fmt::Display for TryGetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryGetError::QueueEmpty => "the queue is empty",
            TryGetError::QueueShutDown => "the queue is shut down",
        })
    }
}

impl Error for TryGetError {}

/// [`task_done`](Queue::task_done) was called more times than items were put (asyncio's
/// `ValueError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDoneError(());

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than items were put in the queue")
    }
}

impl Error for TaskDoneError {}
