//! [`Barrier`]: asyncio's `Barrier`, where a fixed number of tasks meet before going on.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener};

/// A meeting point for `parties` tasks (asyncio's `Barrier`): each [`wait`](Self::wait) blocks
/// until `parties` tasks are waiting, then all of them go on and the barrier starts over.
///
/// `wait` returns the task's arrival index, `0..parties`, different for each task of a round.
/// [`abort`](Self::abort) breaks the barrier: waiting tasks and every later `wait` get
/// [`BrokenBarrierError`] until [`reset`](Self::reset), which also sends that error to the tasks
/// waiting at the time and empties the barrier. A `wait` dropped before its round completes
/// leaves the round (the barrier waits for one more arrival instead).
///
/// ```
/// use eddy_sync::Barrier;
/// use std::sync::Arc;
///
/// # let ex = eddy_local::LocalExecutor::new();
/// # ex.block_on(&mut eddy_task::ThreadPark::new(), async {
/// let barrier = Arc::new(Barrier::new(3));
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         eddy_task::spawn(async move { barrier.wait().await.unwrap() })
///     })
///     .collect();
/// let mut indexes = Vec::new();
/// for task in tasks {
///     indexes.push(task.await.unwrap());
/// }
/// indexes.sort();
/// assert_eq!(indexes, [0, 1, 2]);
/// # });
/// ```
pub struct Barrier {
    parties: usize,
    state: Mutex<State>,
    event: Event,
}

struct State {
    /// Tasks waiting in the current round.
    count: usize,
    /// The current round; replaced when the round ends.
    round: Arc<Round>,
    broken: bool,
}

/// How a round ended: written once, under the barrier's mutex, when the round ends; read by
/// its waiters.
#[derive(Default)]
struct Round {
    outcome: AtomicU8,
}

const PENDING: u8 = 0;
const PASSED: u8 = 1;
const BROKEN: u8 = 2;

impl Round {
    fn outcome(&self) -> u8 {
        self.outcome.load(Ordering::Acquire)
    }
}

impl Barrier {
    /// Creates a barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// Panics if `parties` is 0: no round could ever complete.
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "Barrier::new: parties must be at least 1");
        Self {
            parties,
            state: Mutex::new(State { count: 0, round: Arc::default(), broken: false }),
            event: Event::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        crate::lock(&self.state)
    }

    /// Waits until `parties` tasks are waiting; returns this task's arrival index.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken ([`abort`](Self::abort)) or is reset
    /// while this task waits.
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait { barrier: self, waiting: None }
    }

    /// Ends the current round: the tasks waiting in it get [`BrokenBarrierError`]. The barrier
    /// is empty and usable again afterwards, also if it was broken.
    pub fn reset(&self) {
        let mut state = self.state();
        self.end_round(&mut state, false);
        state.broken = false;
    }

    /// Breaks the barrier: waiting tasks and every later [`wait`](Self::wait) get
    /// [`BrokenBarrierError`], until [`reset`](Self::reset).
    pub fn abort(&self) {
        let mut state = self.state();
        self.end_round(&mut state, false);
        state.broken = true;
    }

    fn end_round(&self, state: &mut State, passed: bool) {
        state.round.outcome.store(if passed { PASSED } else { BROKEN }, Ordering::Release);
        state.round = Arc::default();
        state.count = 0;
        self.event.notify(usize::MAX);
    }

    /// How many tasks it takes to pass.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        self.state().count
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state().broken
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}

/// The future of [`Barrier::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    /// Set once this task has arrived: its index, its round, and its listener.
    waiting: Option<(usize, Arc<Round>, EventListener)>,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let barrier = this.barrier;
        if this.waiting.is_none() {
            let mut state = barrier.state();
            if state.broken {
                return Poll::Ready(Err(BrokenBarrierError(())));
            }
            let index = state.count;
            state.count += 1;
            if state.count == barrier.parties {
                barrier.end_round(&mut state, true);
                return Poll::Ready(Ok(index));
            }
            this.waiting = Some((index, state.round.clone(), barrier.event.listen()));
        }
        loop {
            let (index, round, listener) = this.waiting.as_mut().expect("set above");
            if Pin::new(&mut *listener).poll(cx).is_pending() {
                return Poll::Pending;
            }
            // A notification may be passed on from a dropped listener of an earlier round, so
            // the round's outcome decides, not the wake-up. Rounds end under the mutex, so
            // checking and listening again under it cannot miss the end of this one.
            let state = barrier.state();
            let outcome = round.outcome();
            if outcome == PENDING {
                *listener = barrier.event.listen();
                drop(state);
                continue;
            }
            drop(state);
            let index = *index;
            this.waiting = None;
            return Poll::Ready(if outcome == PASSED { Ok(index) } else { Err(BrokenBarrierError(())) });
        }
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Some((_, round, _)) = self.waiting.take() {
            let mut state = self.barrier.state();
            if round.outcome() == PENDING && Arc::ptr_eq(&round, &state.round) {
                state.count -= 1;
            }
        }
    }
}

impl fmt::Debug for BarrierWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierWait").field("arrived", &self.waiting.is_some()).finish()
    }
}

/// The barrier was broken by [`Barrier::abort`] or reset while waiting (asyncio's
/// `BrokenBarrierError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenBarrierError(());

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken (aborted, or reset while waiting)")
    }
}

impl Error for BrokenBarrierError {}
