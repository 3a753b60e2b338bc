//! [`Parker`]: how a thread waits, driving the reactor while it does; and [`block_on`].
//!
//! # Park protocol
//!
//! A parking thread first tries to take the reactor's driver lock.
//! - If it gets it, it publishes `io_blocked = true`, checks its unpark token (consuming a
//!   pending unpark without blocking), and otherwise waits in the poller until I/O, a timer,
//!   its deadline, or a notification. An [`Unparker`] sets the token first and then, if
//!   `io_blocked` is set, notifies the poller: both sides use `SeqCst`, so either the parking
//!   thread sees the token, or the unparker sees `io_blocked` and interrupts the wait.
//! - If another thread drives while I/O flows (the last wait in the poller found sources
//!   ready), it first looks on, awake, for up to `LOOK_ON`, one thread at a time per reactor,
//!   yielding its CPU between looks. Unparked meanwhile, it returns; if the driver leaves, it
//!   takes the lock for a non-blocking turn and returns, so that its caller looks for work
//!   again before it parks anew.
//! - Otherwise (or if nothing happened while it looked on) it enqueues itself as a sleeper,
//!   issues a `SeqCst` fence, and tries the lock once more before sleeping on its own
//!   `parking::Parker`. The driver, when it leaves, releases the lock, issues a `SeqCst` fence
//!   and unparks one sleeper to take over. Either the driver sees the sleeper in the queue, or
//!   the sleeper's second attempt sees the lock free, so I/O and timers stay watched while any
//!   thread is parked.
//! - A sleeper sets its `sleeping` flag before enqueueing and clears it when it wakes. The
//!   leaving driver pops entries until it can swap one's flag from true to false: a thread that
//!   was queued but woke for another reason (and may never park again) cannot absorb the
//!   hand-over. A thread handed the role that stops parking (its `block_on` returned, its
//!   worker exits) passes it on with [`Parker::relinquish`], so the role is never dropped.
//!
//! # Why a parking thread looks on
//!
//! On a busy server the driver's turns are short: its wait finds events ready and returns at
//! once, it wakes their tasks, and it leaves. A worker that runs out of work during such a turn
//! used to sleep at once and be woken by the hand-over a few microseconds later, and on the
//! virtual machines this project is measured on, a sleep and wake on another CPU took 36 µs at
//! the median, during which that CPU idled: in `tcp_echo` (W = 2) about 770 such sleeps per run,
//! nearly every sleep of both workers, all ended by the hand-over (tokio's workers sleep as
//! often, ended by a notification, for as long). Looking on for 20 µs instead, the worker takes
//! the driver as it leaves, finds the tasks of the turn queued, and goes on without a sleep: in
//! a copy of the row, 82 → 72 ms a run (tokio 81), with the same CPU time and a quarter of the
//! context switches (17,600 → 4,200 in twenty runs).
//!
//! Only while I/O flows: then the driver's waits return at once. Otherwise a wait ends with a
//! timer or a notification, the driver may be blocked for long, and looking on is 20 µs of
//! yields for nothing. (It also sped up hand-offs between threads with no I/O at all, a worker
//! looking on being unparked without a sleep: tokio's mpsc on eddy's runtime went from 24 to
//! 10 ms in `queue_mpsc`, eddy's `Queue` from 24 to 15–20, which put eddy's `Queue` at
//! 1.4–1.6× tokio's there, over its target; see `docs/BENCHMARKS.md`.) Once I/O stops, the
//! first wait that finds nothing ready turns looking on off; the cost is then at most one
//! look-on per park until that wait.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::sync::atomic::{fence, AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::reactor::{Driver, Reactor};

/// Parks the current thread until it is unparked, driving the reactor meanwhile.
///
/// This is the park hook that eddy's executors use when they run out of work: `park` returns
/// when an [`Unparker`] is used, when I/O or a timer wakes a future, or when the timeout
/// passes.
#[derive(Debug)]
pub struct Parker {
    parker: parking::Parker,
    state: Arc<ParkState>,
}

pub(crate) struct ParkState {
    /// The reactor this parker drives.
    reactor: Arc<Reactor>,
    unparker: parking::Unparker,
    io_blocked: AtomicBool,
    /// Whether this thread is in the reactor's sleeper queue (to enqueue it once only).
    queued: AtomicBool,
    /// Whether this thread sleeps without driving, waiting to be handed the driver role.
    sleeping: AtomicBool,
    /// Whether this thread was handed the driver role and has not parked since.
    handed: AtomicBool,
}

impl ParkState {
    pub(crate) fn unpark(&self) {
        self.unparker.unpark();
        if self.io_blocked.load(Ordering::SeqCst) {
            self.reactor.selector.notify();
        }
    }

    pub(crate) fn mark_queued(&self) -> bool {
        !self.queued.swap(true, Ordering::SeqCst)
    }

    pub(crate) fn clear_queued(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }

    /// Claims this sleeping thread for the driver role; false if it is not asleep any more.
    pub(crate) fn claim(&self) -> bool {
        let claimed = self.sleeping.swap(false, Ordering::SeqCst);
        if claimed {
            self.handed.store(true, Ordering::SeqCst);
        }
        claimed
    }
}

impl std::fmt::Debug for ParkState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParkState").field("reactor", &self.reactor.id).finish_non_exhaustive()
    }
}

impl Wake for ParkState {
    fn wake(self: Arc<Self>) {
        self.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.unpark();
    }
}

impl Parker {
    /// Creates a parker for the current thread, which drives the reactor current on it: the
    /// global one, unless a [`Driver`](crate::Driver) was entered.
    pub fn new() -> Parker {
        Parker::on(Reactor::current())
    }

    pub(crate) fn on(reactor: Arc<Reactor>) -> Parker {
        let (parker, unparker) = parking::pair();
        Parker {
            parker,
            state: Arc::new(ParkState {
                reactor,
                unparker,
                io_blocked: AtomicBool::new(false),
                queued: AtomicBool::new(false),
                sleeping: AtomicBool::new(false),
                handed: AtomicBool::new(false),
            }),
        }
    }

    /// Returns a handle that unparks this parker from any thread.
    pub fn unparker(&self) -> Unparker {
        Unparker(self.state.clone())
    }

    /// Returns a waker that unparks this parker.
    pub fn waker(&self) -> Waker {
        Waker::from(self.state.clone())
    }

    /// Blocks until unparked, or until `timeout` passes (`None`: no limit;
    /// `Some(Duration::ZERO)`: only process the I/O and timers that are ready, without blocking).
    ///
    /// It may also return early: a thread that finds another one driving the reactor while I/O
    /// flows waits awake for a moment, and if the driver leaves meanwhile, it takes in the I/O
    /// and timers that are ready and returns, so that its caller looks for work again before it
    /// parks anew. Callers loop on their own condition, as with [`std::thread::park`].
    ///
    /// # Errors
    ///
    /// Returns the poller's error if waiting for I/O fails (which the OS reserves for broken
    /// invariants such as a closed poller).
    pub fn park_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let may_block = timeout != Some(Duration::ZERO);
        let reactor = &*self.state.reactor;
        // Parking again takes part in driving: a role handed over earlier is taken up here.
        self.state.handed.store(false, Ordering::SeqCst);
        let mut driver = match reactor.try_lock_driver() {
            Some(driver) => driver,
            None if !may_block => return Ok(()),
            None => {
                match look_on(&self.parker, reactor, deadline) {
                    LookOn::Unparked => return Ok(()),
                    LookOn::Driver(mut driver) => {
                        // The turn ended: take in what is ready, without blocking, and let the
                        // caller look for work (the turn's tasks, most often) before it parks.
                        let result = reactor.react(&mut driver, deadline, false);
                        drop(driver);
                        reactor.release_driver();
                        return result;
                    }
                    LookOn::Sleep => {}
                }
                self.state.sleeping.store(true, Ordering::SeqCst);
                reactor.add_sleeper(&self.state);
                // The driver may have left between the failed lock and the enqueue, without
                // seeing this thread in the queue: look once more (see `Reactor::release_driver`).
                fence(Ordering::SeqCst);
                match reactor.try_lock_driver() {
                    Some(driver) => {
                        self.state.sleeping.store(false, Ordering::SeqCst);
                        driver
                    }
                    None => {
                        match deadline {
                            Some(deadline) => self.parker.park_deadline(deadline),
                            None => {
                                self.parker.park();
                                true
                            }
                        };
                        self.state.sleeping.store(false, Ordering::SeqCst);
                        return Ok(());
                    }
                }
            }
        };
        self.state.io_blocked.store(true, Ordering::SeqCst);
        let result = if may_block && self.parker.park_timeout(Duration::ZERO) {
            // Already unparked: run a non-blocking turn so that I/O is not starved.
            reactor.react(&mut driver, deadline, false)
        } else {
            reactor.react(&mut driver, deadline, may_block)
        };
        self.state.io_blocked.store(false, Ordering::SeqCst);
        drop(driver);
        reactor.release_driver();
        result
    }

    /// Tells the reactor that this thread will not park again for now (its `block_on` returned,
    /// its worker is exiting). If it had been handed the driver role while asleep, the role
    /// passes to another sleeping thread, so that I/O and timers stay watched. `block_on` and
    /// dropping a `Parker` do this by themselves.
    pub fn relinquish(&self) {
        if self.state.handed.swap(false, Ordering::SeqCst) {
            let reactor = &self.state.reactor;
            if let Some(driver) = reactor.try_lock_driver() {
                drop(driver);
                reactor.release_driver();
            }
        }
    }

    /// Blocks until unparked; see [`park_timeout`](Self::park_timeout).
    ///
    /// # Errors
    ///
    /// As for [`park_timeout`](Self::park_timeout).
    pub fn park(&mut self) -> io::Result<()> {
        self.park_timeout(None)
    }

    /// Whether this parker drives `reactor`.
    fn drives(&self, reactor: &Arc<Reactor>) -> bool {
        Arc::ptr_eq(&self.state.reactor, reactor)
    }
}

/// What a parking thread saw while it looked on for a busy driver.
enum LookOn<'a> {
    /// It was unparked.
    Unparked,
    /// The driver left, and it holds the lock now.
    Driver(std::sync::MutexGuard<'a, Driver>),
    /// Nothing within `Reactor::look_on` (or its deadline), or another thread looks on
    /// already: it is to sleep.
    Sleep,
}

/// Looks on, awake, for the driver of `reactor` to leave (see "Why a parking thread looks on").
fn look_on<'a>(parker: &parking::Parker, reactor: &'a Reactor, deadline: Option<Instant>) -> LookOn<'a> {
    if !reactor.io_flowing.load(Ordering::Relaxed) || reactor.looking_on.swap(true, Ordering::Acquire) {
        return LookOn::Sleep;
    }
    let limit = Instant::now() + reactor.look_on();
    let until = deadline.map_or(limit, |deadline| deadline.min(limit));
    let seen = loop {
        // A yield, not a spin: a thread sharing this CPU (the driver, say) runs meanwhile.
        std::thread::yield_now();
        if parker.park_timeout(Duration::ZERO) {
            break LookOn::Unparked;
        }
        if let Some(driver) = reactor.try_lock_driver() {
            break LookOn::Driver(driver);
        }
        if Instant::now() >= until {
            break LookOn::Sleep;
        }
    };
    reactor.looking_on.store(false, Ordering::Release);
    seen
}

impl Drop for Parker {
    fn drop(&mut self) {
        self.relinquish();
    }
}

impl Default for Parker {
    fn default() -> Parker {
        Parker::new()
    }
}

/// Unparks a [`Parker`] from any thread; cheap to clone.
#[derive(Clone, Debug)]
pub struct Unparker(Arc<ParkState>);

impl Unparker {
    /// Wakes the parker, interrupting its wait for I/O if it is in one.
    pub fn unpark(&self) {
        self.0.unpark();
    }
}

impl From<Unparker> for Waker {
    fn from(unparker: Unparker) -> Waker {
        Waker::from(unparker.0)
    }
}

/// Runs `future` to completion on the current thread, driving I/O and timers while it waits.
///
/// This is eddy's event loop for a single future, without an executor: spawned tasks need a
/// runtime (`eddy::run`). It may be nested (a `block_on` inside a future being polled by
/// another `block_on`) and used on several threads at once.
///
/// ```
/// use std::time::Duration;
///
/// let out = eddy_io::block_on(async {
///     eddy_io::sleep(Duration::from_millis(1)).await;
///     "done"
/// });
/// assert_eq!(out, "done");
/// ```
///
/// # Panics
///
/// Panics if the OS fails the wait for I/O itself (see [`Parker::park_timeout`]).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    thread_local! {
        static CACHE: RefCell<Option<(Parker, Waker)>> = const { RefCell::new(None) };
    }
    let mut future = pin!(future);
    let mut run = |parker: &mut Parker, waker: &Waker| {
        let parker = Relinquish(parker);
        let mut cx = Context::from_waker(waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            parker.0.park().unwrap_or_else(|e| panic!("eddy-io: waiting for I/O failed: {e}"));
        }
    };
    CACHE.with(|cache| match cache.try_borrow_mut() {
        Ok(mut cache) => {
            // The cached parker is kept while it drives the current reactor; entering another
            // (a runtime's) replaces it.
            let stale = Reactor::with_current(|reactor| match cache.as_ref() {
                Some((parker, _)) if parker.drives(reactor) => None,
                _ => Some(reactor.clone()),
            });
            if let Some(reactor) = stale {
                let parker = Parker::on(reactor);
                let waker = parker.waker();
                *cache = Some((parker, waker));
            }
            let (parker, waker) = cache.as_mut().expect("filled above");
            run(parker, waker)
        }
        // Nested `block_on`: the outer one holds the cached parker.
        Err(_) => {
            let mut parker = Parker::new();
            let waker = parker.waker();
            run(&mut parker, &waker)
        }
    })
}

/// Relinquishes the driver role when a `block_on` ends, returning or unwinding.
struct Relinquish<'a>(&'a mut Parker);

impl Drop for Relinquish<'_> {
    fn drop(&mut self) {
        self.0.relinquish();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::thread;

    use super::*;

    /// Waits until `condition` holds (for at most five seconds).
    fn until(condition: impl Fn() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !condition() {
            if Instant::now() > deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(1));
        }
        true
    }

    /// A parker of `reactor`, parked on another thread with `timeout`; the receiver hears when
    /// its park returns.
    fn parked(
        reactor: &Arc<Reactor>,
        timeout: Option<Duration>,
    ) -> (Unparker, Arc<ParkState>, mpsc::Receiver<()>) {
        let parker = Parker::on(reactor.clone());
        let (unparker, state) = (parker.unparker(), parker.state.clone());
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut parker = parker;
            parker.park_timeout(timeout).unwrap();
            tx.send(()).unwrap();
        });
        (unparker, state, rx)
    }

    /// A reactor whose last wait found sources ready, and whose parking threads look on for ten
    /// seconds.
    fn reactor() -> Arc<Reactor> {
        let reactor = Reactor::new(false).unwrap();
        reactor.set_look_on(Duration::from_secs(10));
        reactor.io_flowing.store(true, Ordering::SeqCst);
        reactor
    }

    #[test]
    fn a_parker_that_finds_the_driver_busy_takes_it_as_it_leaves() {
        let reactor = reactor();
        let busy = reactor.try_lock_driver().unwrap();
        let (unparker, _, returned) = parked(&reactor, None);
        assert!(until(|| reactor.looking_on.load(Ordering::SeqCst)), "the parker looks on");
        // Released without a hand-over: only a parker still awake can notice.
        drop(busy);
        let result = returned.recv_timeout(Duration::from_secs(5));
        unparker.unpark();
        assert!(result.is_ok(), "the parker took the driver for a turn and returned");
        assert!(!reactor.looking_on.load(Ordering::SeqCst));
    }

    #[test]
    fn a_parker_sleeps_at_once_while_no_io_flows() {
        let reactor = reactor();
        reactor.io_flowing.store(false, Ordering::SeqCst);
        let _busy = reactor.try_lock_driver().unwrap();
        let (unparker, state, returned) = parked(&reactor, None);
        assert!(until(|| state.sleeping.load(Ordering::SeqCst)), "the parker sleeps");
        assert!(!reactor.looking_on.load(Ordering::SeqCst));
        unparker.unpark();
        assert!(returned.recv_timeout(Duration::from_secs(5)).is_ok());
    }

    #[test]
    fn a_parker_looking_on_returns_when_unparked() {
        let reactor = reactor();
        let _busy = reactor.try_lock_driver().unwrap();
        let (unparker, _, returned) = parked(&reactor, None);
        assert!(until(|| reactor.looking_on.load(Ordering::SeqCst)));
        unparker.unpark();
        assert!(returned.recv_timeout(Duration::from_secs(5)).is_ok());
        assert!(!reactor.looking_on.load(Ordering::SeqCst));
    }

    #[test]
    fn one_parker_looks_on_at_a_time_and_its_deadline_ends_it() {
        let reactor = reactor();
        let _busy = reactor.try_lock_driver().unwrap();
        let (first, _, first_returned) = parked(&reactor, Some(Duration::from_millis(300)));
        assert!(until(|| reactor.looking_on.load(Ordering::SeqCst)));
        // The second one sleeps at once, queued for a hand-over.
        let (second, second_state, second_returned) = parked(&reactor, None);
        assert!(until(|| second_state.sleeping.load(Ordering::SeqCst)), "the second parker sleeps");
        assert!(reactor.looking_on.load(Ordering::SeqCst), "while the first still looks on");
        // The first one's deadline (300 ms), not its ten seconds of looking on, ends its park.
        assert!(first_returned.recv_timeout(Duration::from_secs(5)).is_ok());
        first.unpark();
        second.unpark();
        assert!(second_returned.recv_timeout(Duration::from_secs(5)).is_ok());
    }
}
