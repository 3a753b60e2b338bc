//! The reactor: one `polling::Poller` per process, the sources registered with it, and the
//! timers; driven by whichever thread is parked in [`Parker::park`](crate::Parker::park).
//!
//! # Readiness protocol
//!
//! Each [`Source`] keeps, per direction (read, write), a `ready` flag, a `tick` counting the
//! events delivered, and the wakers of the futures waiting. Sources are registered once, in
//! edge-triggered mode where the OS supports it (Linux, the BSDs, macOS): the kernel reports a
//! change of state once, and no re-arm syscall is needed per wait. Elsewhere they are
//! registered in oneshot mode and re-armed once per wait.
//!
//! An I/O operation runs as follows ([`Source::poll_io`]):
//! 1. if `ready` is set, try the operation (a fresh source starts ready, so the first attempt
//!    costs no wait at all);
//! 2. if it would block, clear `ready`, but only if `tick` is still the one observed in step 1
//!    (an event that arrived meanwhile must not be lost), then register the waker and return
//!    `Pending`;
//! 3. an event sets `ready`, bumps `tick` and wakes the registered wakers.
//!
//! # Keys
//!
//! A source's key is its slab index in the low 32 bits and a 31-bit generation above it; the top
//! bit stays clear, so no source has the notification's key (see the `selector` module). An event
//! whose key no longer matches a live source (it was deregistered after the kernel queued the
//! event, and maybe its index reused) is ignored.
//!
//! # Who drives
//!
//! At most one thread at a time holds the driver lock and waits in the poller; other parked
//! threads sleep on their own parker. When the driver leaves, it unparks one sleeper so that a
//! thread keeps watching I/O and timers while anyone is parked.

use std::io;
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use concurrent_queue::ConcurrentQueue;
use polling::{Event, PollMode};
use slab::Slab;

use crate::parker::ParkState;
use crate::selector::{Events, Selector};
use crate::timers::Timers;

/// Locks a mutex, ignoring poisoning: every critical section here leaves its data consistent
/// before anything that may panic (wakers run after the lock is released).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Reactor {
    pub(crate) selector: Selector,
    /// Whether sources are edge-triggered (else oneshot, re-armed per wait).
    edge: bool,
    sources: Mutex<Slab<Arc<Source>>>,
    /// How many sources are registered. With none, a non-blocking turn skips the poller: a
    /// `polling` wait costs four or five syscalls (timerfd, two re-arms, the notifier, epoll)
    /// and busy executors take such a turn every few dozen tasks.
    registered: AtomicUsize,
    generation: AtomicU64,
    driver: Mutex<Driver>,
    pub(crate) timers: Timers,
    /// Parked threads that are not driving, to hand the driver role to when it is released.
    sleepers: ConcurrentQueue<Arc<ParkState>>,
}

/// What only the driving thread touches.
pub(crate) struct Driver {
    events: Events,
    wakers: Vec<Waker>,
}

impl Reactor {
    /// The process-wide reactor, created on first use.
    ///
    /// # Panics
    ///
    /// Panics if the OS refuses to create the poller (out of file descriptors at the very first
    /// use of eddy's I/O); nothing can run without it.
    pub(crate) fn get() -> &'static Reactor {
        static REACTOR: OnceLock<Reactor> = OnceLock::new();
        REACTOR.get_or_init(|| {
            let selector =
                Selector::new().unwrap_or_else(|e| panic!("eddy-io: cannot create the I/O poller: {e}"));
            Reactor {
                edge: selector.poller.supports_edge(),
                selector,
                sources: Mutex::new(Slab::new()),
                registered: AtomicUsize::new(0),
                generation: AtomicU64::new(0),
                driver: Mutex::new(Driver { events: Events::new(), wakers: Vec::new() }),
                timers: Timers::new(),
                sleepers: ConcurrentQueue::unbounded(),
            }
        })
    }

    /// Registers a file descriptor, which must stay open until [`deregister`](Self::deregister).
    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        let mut sources = lock(&self.sources);
        let entry = sources.vacant_entry();
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        let key = (entry.key() as u64 | (generation << 32)) as usize;
        let source = Arc::new(Source { raw: fd.as_raw_fd(), key, state: Source::new_state() });
        let (interest, mode) =
            if self.edge { (Event::all(key), PollMode::Edge) } else { (Event::none(key), PollMode::Oneshot) };
        // SAFETY: the caller keeps `fd` open until `deregister`, which deletes it from the poller
        // first; `Async` upholds this by deregistering in `Drop` before closing its I/O object.
        unsafe { self.selector.poller.add_with_mode(fd.as_raw_fd(), interest, mode)? };
        entry.insert(source.clone());
        self.registered.fetch_add(1, Ordering::Relaxed);
        Ok(source)
    }

    /// Removes a source from the poller. Wakes its waiters, so none waits forever on a source
    /// that can no longer become ready.
    pub(crate) fn deregister(&self, source: &Source) -> io::Result<()> {
        {
            let mut sources = lock(&self.sources);
            let index = source.key & 0xFFFF_FFFF;
            if sources.get(index).is_some_and(|s| s.key == source.key) {
                sources.remove(index);
                self.registered.fetch_sub(1, Ordering::Relaxed);
            }
        }
        // SAFETY: the descriptor is still open: `Async::drop` calls this before closing it.
        let fd = unsafe { BorrowedFd::borrow_raw(source.raw) };
        let result = self.selector.poller.delete(fd);
        for waker in source.wake_all() {
            waker.wake();
        }
        result
    }

    pub(crate) fn try_lock_driver(&self) -> Option<MutexGuard<'_, Driver>> {
        match self.driver.try_lock() {
            Ok(guard) => Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Records a parked thread that is not driving, to be unparked when the driver leaves.
    pub(crate) fn add_sleeper(&self, state: &Arc<ParkState>) {
        if state.mark_queued() {
            // Unbounded and never closed: always accepts.
            let _ = self.sleepers.push(state.clone());
        }
    }

    /// Called right after the driver lock is released: hands the role to a sleeping thread.
    pub(crate) fn release_driver(&self) {
        // Pairs with the fence in `Parker::park_timeout` between enqueueing and retrying.
        std::sync::atomic::fence(Ordering::SeqCst);
        while let Ok(sleeper) = self.sleepers.pop() {
            sleeper.clear_queued();
            if sleeper.claim() {
                sleeper.unpark();
                return;
            }
        }
    }

    /// One turn of the event loop: waits for I/O until `deadline` (or the next timer, or a
    /// notification), then wakes every future whose source became ready or whose timer fired.
    pub(crate) fn react(
        &self,
        driver: &mut Driver,
        deadline: Option<Instant>,
        may_block: bool,
    ) -> io::Result<()> {
        let mut wakers = mem::take(&mut driver.wakers);
        let next_timer = self.timers.fire_due(&mut wakers);
        // Block only if nothing is ready to run already.
        let block = may_block && wakers.is_empty();
        let until = match (deadline, next_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let timeout = if block {
            self.timers.about_to_sleep(until);
            // A timer inserted before `about_to_sleep` published the deadline is still queued.
            if self.timers.has_pending_ops() {
                Some(std::time::Duration::ZERO)
            } else {
                until.map(|t| t.saturating_duration_since(Instant::now()))
            }
        } else {
            Some(std::time::Duration::ZERO)
        };
        // A source registered concurrently is seen by the next turn: readiness waits in epoll.
        let result = if !block && self.registered.load(Ordering::Relaxed) == 0 {
            driver.events.clear();
            Ok(())
        } else {
            self.selector.wait(&mut driver.events, timeout)
        };
        if block {
            self.timers.woke_up();
        }
        if !driver.events.is_empty() {
            let sources = lock(&self.sources);
            for event in driver.events.iter() {
                let index = event.key & 0xFFFF_FFFF;
                let Some(source) = sources.get(index).filter(|s| s.key == event.key) else { continue };
                source.deliver(event.readable, event.writable, &mut wakers);
            }
        }
        self.timers.fire_due(&mut wakers);
        for waker in wakers.drain(..) {
            waker.wake();
        }
        driver.wakers = wakers;
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            other => other,
        }
    }

    /// Re-arms a oneshot source for the directions that have waiters.
    fn rearm(&self, source: &Source, read: bool, write: bool) -> io::Result<()> {
        // SAFETY: the descriptor is registered, hence open (see `register`).
        let fd = unsafe { BorrowedFd::borrow_raw(source.raw) };
        let mut interest = Event::none(source.key);
        interest.readable = read;
        interest.writable = write;
        self.selector.poller.modify_with_mode(fd, interest, PollMode::Oneshot)
    }
}

/// A direction of a source: reading or writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    Read = 0,
    Write = 1,
}

/// A registered file descriptor and its readiness.
pub(crate) struct Source {
    raw: RawFd,
    key: usize,
    state: Mutex<[Direction; 2]>,
}

#[derive(Default)]
struct Direction {
    /// Set by events, cleared by an operation that would block (see the module docs).
    ready: bool,
    tick: u64,
    /// Oneshot mode only: whether the poller is armed for this direction.
    armed: bool,
    wakers: Vec<Waker>,
}

impl Direction {
    fn fresh() -> Direction {
        Direction { ready: true, ..Direction::default() }
    }
}

impl Source {
    fn deliver(&self, readable: bool, writable: bool, wakers: &mut Vec<Waker>) {
        let mut state = lock(&self.state);
        for (dir, fired) in [(Dir::Read, readable), (Dir::Write, writable)] {
            let d = &mut state[dir as usize];
            // Oneshot registrations are disarmed by any event.
            d.armed = false;
            if fired {
                d.ready = true;
                d.tick = d.tick.wrapping_add(1);
                wakers.append(&mut d.wakers);
            }
        }
    }

    fn wake_all(&self) -> Vec<Waker> {
        let mut state = lock(&self.state);
        let mut wakers = mem::take(&mut state[0].wakers);
        wakers.append(&mut state[1].wakers);
        wakers
    }

    /// Resolves to the direction's tick once it is ready, registering `cx`'s waker otherwise.
    pub(crate) fn poll_ready(&self, dir: Dir, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let reactor = Reactor::get();
        let mut state = lock(&self.state);
        let d = &mut state[dir as usize];
        if d.ready {
            return Poll::Ready(Ok(d.tick));
        }
        if !d.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            d.wakers.push(cx.waker().clone());
        }
        if !reactor.edge && !d.armed {
            d.armed = true;
            let (read, write) = (!state[0].wakers.is_empty(), !state[1].wakers.is_empty());
            if let Err(e) = reactor.rearm(self, read, write) {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Pending
    }

    /// Clears the direction's readiness if no event arrived since `tick` was observed.
    pub(crate) fn clear_ready(&self, dir: Dir, tick: u64) {
        let mut state = lock(&self.state);
        let d = &mut state[dir as usize];
        if d.tick == tick {
            d.ready = false;
        }
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readiness in between.
    pub(crate) fn poll_io<R>(
        &self,
        dir: Dir,
        cx: &mut Context<'_>,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let tick = match self.poll_ready(dir, cx) {
                Poll::Ready(Ok(tick)) => tick,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.clear_ready(dir, tick),
                result => return Poll::Ready(result),
            }
        }
    }

    fn new_state() -> Mutex<[Direction; 2]> {
        Mutex::new([Direction::fresh(), Direction::fresh()])
    }
}
