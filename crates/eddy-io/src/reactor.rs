//! The reactor: a `polling::Poller`, the sources registered with it, and the timers; driven by
//! whichever thread is parked in it through [`Parker::park`](crate::Parker::park).
//!
//! # Which reactor
//!
//! A runtime has a reactor of its own (a [`Driver`](crate::Driver)), made current on its
//! threads; everywhere else the process-wide global reactor is current. What registers takes the
//! current one: an I/O object at its creation, for its life; a timer at each registration, so
//! that a timer polled under another reactor, or after its reactor shut down, moves to the
//! current one. A parker drives the reactor that was current when it was made. So an idle
//! runtime's threads never wait on a busy runtime's events.
//!
//! Two things keep I/O objects from waiting on a reactor nobody drives:
//! - an object of the global reactor that waits inside a runtime (made from a `std` socket
//!   before the runtime started, say) starts the `eddy-io` thread once per process, which then
//!   keeps the global reactor driven;
//! - a reactor that shuts down wakes every waiter, and its objects then fail their waits with an
//!   error that says so, rather than waiting forever.
//!
//! # Readiness protocol
//!
//! Each [`Source`] keeps, per direction (read, write), a `ready` flag and a `tick` counting the
//! events delivered, both in one atomic word, and under a lock the wakers of the futures
//! waiting. An operation on a ready source reads the word and takes no lock; only a wait does.
//! Sources are registered once, in edge-triggered mode where the OS supports it (Linux, the
//! BSDs, macOS): the kernel reports a change of state once, and no re-arm syscall is needed per
//! wait. Elsewhere they are registered in oneshot mode and re-armed once per wait.
//!
//! An I/O operation runs as follows ([`Source::poll_io`]):
//! 1. if `ready` is set, try the operation (a fresh source starts ready, so the first attempt
//!    costs no wait at all);
//! 2. if it would block, clear `ready`, but only if `tick` is still the one observed in step 1
//!    (an event that arrived meanwhile must not be lost): one compare-exchange of the word;
//! 3. not ready: under the lock, look at the word again, and register the waker and return
//!    `Pending` only if it is still not ready;
//! 4. an event, under the same lock, sets `ready` and bumps `tick` in one store (events are
//!    serialized by the lock; a clear it overwrites was for an attempt made before the event),
//!    then takes the registered wakers to wake. A wait that took the lock before it finds its
//!    waker; one that takes it after sees `ready`.
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

use std::cell::RefCell;
use std::io;
use std::mem;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, TryLockError, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

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
    /// Unique in the process, never reused: timers name their reactor by it.
    pub(crate) id: u64,
    /// Whether this is the process-wide reactor.
    global: bool,
    /// Set by [`shutdown`](Self::shutdown): nobody drives this reactor any more.
    closed: AtomicBool,
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
    /// Weak, as each parker holds its reactor: a queued parker must not keep its reactor alive.
    sleepers: ConcurrentQueue<Weak<ParkState>>,
    /// Whether a parking thread is looking on, awake, for the driver to leave (see `Parker`):
    /// one at a time.
    pub(crate) looking_on: AtomicBool,
    /// Whether the last wait in the poller found sources ready: I/O is flowing, and the
    /// driver's turns are short. Only then does a parking thread look on.
    pub(crate) io_flowing: AtomicBool,
    /// How long a parking thread looks on for a busy driver before it sleeps, in nanoseconds
    /// ([`LOOK_ON`], longer in some tests).
    look_on: AtomicU64,
}

/// How long a parking thread that finds the driver busy stays awake for it to leave.
pub(crate) const LOOK_ON: Duration = Duration::from_micros(20);

/// What only the driving thread touches.
pub(crate) struct Driver {
    events: Events,
    wakers: Vec<Waker>,
}

thread_local! {
    /// The reactor made current on this thread by [`Driver::enter`](crate::Driver::enter);
    /// `None`: the global one.
    static CURRENT: RefCell<Option<Arc<Reactor>>> = const { RefCell::new(None) };
}

/// Every live reactor by id, for the rare timer dropped under another reactor than its own.
static REACTORS: Mutex<Vec<(u64, Weak<Reactor>)>> = Mutex::new(Vec::new());

impl Reactor {
    pub(crate) fn new(global: bool) -> io::Result<Arc<Reactor>> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let selector = Selector::new()?;
        let reactor = Arc::new(Reactor {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            global,
            closed: AtomicBool::new(false),
            edge: selector.poller.supports_edge(),
            selector,
            sources: Mutex::new(Slab::new()),
            registered: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            driver: Mutex::new(Driver { events: Events::new(), wakers: Vec::new() }),
            looking_on: AtomicBool::new(false),
            io_flowing: AtomicBool::new(false),
            look_on: AtomicU64::new(LOOK_ON.as_nanos() as u64),
            timers: Timers::new(),
            sleepers: ConcurrentQueue::unbounded(),
        });
        lock(&REACTORS).push((reactor.id, Arc::downgrade(&reactor)));
        Ok(reactor)
    }

    /// The process-wide reactor, created on first use.
    ///
    /// # Panics
    ///
    /// Panics if the OS refuses to create the poller (out of file descriptors at the very first
    /// use of eddy's I/O); nothing can run without it.
    pub(crate) fn global() -> &'static Arc<Reactor> {
        static GLOBAL: OnceLock<Arc<Reactor>> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            Reactor::new(true).unwrap_or_else(|e| panic!("eddy-io: cannot create the I/O poller: {e}"))
        })
    }

    /// Runs `f` with the reactor current on this thread: the one entered, unless it has shut
    /// down, else the global one (also while the thread's locals are being destroyed).
    pub(crate) fn with_current<R>(f: impl FnOnce(&Arc<Reactor>) -> R) -> R {
        let mut f = Some(f);
        let entered = CURRENT.try_with(|current| {
            let current = current.borrow();
            let reactor = current.as_ref().filter(|reactor| !reactor.is_closed())?;
            f.take().map(|f| f(reactor))
        });
        if let Ok(Some(output)) = entered {
            return output;
        }
        let f = f.expect("`f` is taken only to run on the entered reactor, whose output returned");
        f(Reactor::global())
    }

    /// The reactor current on this thread; see [`with_current`](Self::with_current).
    pub(crate) fn current() -> Arc<Reactor> {
        Reactor::with_current(Arc::clone)
    }

    /// Makes `reactor` current on this thread; returns the one it replaces.
    pub(crate) fn set_current(reactor: Option<Arc<Reactor>>) -> Option<Arc<Reactor>> {
        CURRENT.try_with(|current| current.replace(reactor)).ok().flatten()
    }

    /// The live reactor with this id, if any.
    pub(crate) fn by_id(id: u64) -> Option<Arc<Reactor>> {
        lock(&REACTORS).iter().find(|(i, _)| *i == id).and_then(|(_, weak)| weak.upgrade())
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Registers a timer firing at `when` that wakes `waker`; returns its id. Wakes the driver
    /// if it sleeps past `when`.
    pub(crate) fn insert_timer(&self, when: Instant, waker: &Waker) -> u64 {
        let (id, notify) = self.timers.insert(when, waker);
        if notify {
            self.selector.notify();
        }
        id
    }

    /// Marks the reactor as no longer driven, and wakes every future waiting on it: waiting
    /// sources then fail with [`closed_error`], and timers move to the reactor current where they
    /// are polled next.
    pub(crate) fn shutdown(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let sources: Vec<Arc<Source>> = lock(&self.sources).iter().map(|(_, s)| s.clone()).collect();
        let mut wakers = Vec::new();
        for source in sources {
            wakers.append(&mut source.wake_all());
        }
        self.timers.take_all(&mut wakers);
        for waker in wakers {
            waker.wake();
        }
    }

    /// Registers a file descriptor, which must stay open until [`deregister`](Self::deregister).
    pub(crate) fn register(&self, fd: BorrowedFd<'_>) -> io::Result<Arc<Source>> {
        if self.is_closed() {
            return Err(closed_error());
        }
        let mut sources = lock(&self.sources);
        let entry = sources.vacant_entry();
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) & 0x7FFF_FFFF;
        let key = (entry.key() as u64 | (generation << 32)) as usize;
        let source = Arc::new(Source {
            raw: fd.as_raw_fd(),
            key,
            // A fresh source starts ready, so its first attempt costs no wait.
            readiness: [AtomicU64::new(READY), AtomicU64::new(READY)],
            state: Mutex::default(),
        });
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

    /// How long a parking thread looks on for a busy driver before it sleeps.
    pub(crate) fn look_on(&self) -> Duration {
        Duration::from_nanos(self.look_on.load(Ordering::Relaxed))
    }

    #[cfg(test)]
    pub(crate) fn set_look_on(&self, look_on: Duration) {
        self.look_on.store(look_on.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Records a parked thread that is not driving, to be unparked when the driver leaves.
    pub(crate) fn add_sleeper(&self, state: &Arc<ParkState>) {
        if state.mark_queued() {
            // Unbounded and never closed: always accepts.
            let _ = self.sleepers.push(Arc::downgrade(state));
        }
    }

    /// Called right after the driver lock is released: hands the role to a sleeping thread.
    pub(crate) fn release_driver(&self) {
        // Pairs with the fence in `Parker::park_timeout` between enqueueing and retrying.
        std::sync::atomic::fence(Ordering::SeqCst);
        while let Ok(sleeper) = self.sleepers.pop() {
            // A parker dropped while queued has no thread to hand the role to.
            let Some(sleeper) = sleeper.upgrade() else { continue };
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
        let flowing = !driver.events.is_empty();
        if self.io_flowing.load(Ordering::Relaxed) != flowing {
            self.io_flowing.store(flowing, Ordering::Relaxed);
        }
        if flowing {
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

/// The `ready` bit of a direction's readiness word; the bits above it are the tick.
const READY: u64 = 1;

/// A registered file descriptor and its readiness.
pub(crate) struct Source {
    raw: RawFd,
    key: usize,
    /// Per direction, the tick (events delivered) shifted left by one, and [`READY`]: set by
    /// events, cleared by an operation that would block (see the module docs). Written by
    /// events only under `state`'s lock.
    readiness: [AtomicU64; 2],
    state: Mutex<Waiters>,
}

/// The futures waiting on a source, and (oneshot mode) what the poller is armed for.
#[derive(Default)]
struct Waiters {
    /// Per direction, the first waiting future's waker. Kept inline, next to the lock: the
    /// waiting task writes it and the driver takes it, so a heap buffer here would be one more
    /// line crossing between them per wait.
    first: [Option<Waker>; 2],
    /// The wakers of further futures waiting in a direction whose `first` is taken (rare: two
    /// futures reading one socket, say). None for a direction whose `first` is empty.
    more: Vec<(Dir, Waker)>,
    /// Oneshot mode only: whether the poller is armed for each direction.
    armed: [bool; 2],
}

impl Waiters {
    /// Adds `waker` to the direction's waiters, unless one that wakes the same task is there.
    fn register(&mut self, dir: Dir, waker: &Waker) {
        match &self.first[dir as usize] {
            None => self.first[dir as usize] = Some(waker.clone()),
            Some(first) if first.will_wake(waker) => {}
            Some(_) => {
                if !self.more.iter().any(|(d, w)| *d == dir && w.will_wake(waker)) {
                    self.more.push((dir, waker.clone()));
                }
            }
        }
    }

    /// Moves the direction's wakers to `wakers`.
    fn take(&mut self, dir: Dir, wakers: &mut Vec<Waker>) {
        if let Some(first) = self.first[dir as usize].take() {
            wakers.push(first);
            let mut i = 0;
            while i < self.more.len() {
                if self.more[i].0 == dir {
                    wakers.push(self.more.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
        }
    }
}

impl Source {
    fn deliver(&self, readable: bool, writable: bool, wakers: &mut Vec<Waker>) {
        let mut state = lock(&self.state);
        // Oneshot registrations are disarmed by any event.
        state.armed = [false; 2];
        for (dir, fired) in [(Dir::Read, readable), (Dir::Write, writable)] {
            if fired {
                // Sets `ready` and bumps the tick in one store, so that a `clear_ready` of the old
                // tick cannot clear the new one. Not a read-modify-write: deliveries are
                // serialized by the lock, and the only other writer, `clear_ready`, may be
                // overwritten, as the event came after the attempt it would have cleared for.
                let readiness = &self.readiness[dir as usize];
                let word = readiness.load(Ordering::Relaxed);
                readiness.store((word | READY).wrapping_add(2), Ordering::Release);
                state.take(dir, wakers);
            }
        }
    }

    fn wake_all(&self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        let mut state = lock(&self.state);
        state.take(Dir::Read, &mut wakers);
        state.take(Dir::Write, &mut wakers);
        wakers
    }

    /// Resolves to the direction's readiness word (its tick) once it is ready, registering `cx`'s
    /// waker otherwise.
    /// `reactor` is the one the source is registered with.
    pub(crate) fn poll_ready(
        &self,
        reactor: &Reactor,
        dir: Dir,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<u64>> {
        let readiness = &self.readiness[dir as usize];
        let word = readiness.load(Ordering::Acquire);
        if word & READY != 0 {
            return Poll::Ready(Ok(word));
        }
        let mut state = lock(&self.state);
        // Again under the lock: an event delivered since set it before it took the wakers.
        let word = readiness.load(Ordering::Acquire);
        if word & READY != 0 {
            return Poll::Ready(Ok(word));
        }
        // Checked after `ready`: an object whose runtime is gone still completes what needs no
        // wait. `shutdown` sets the flag before it takes the wakers, under this lock.
        if reactor.is_closed() {
            return Poll::Ready(Err(closed_error()));
        }
        if reactor.global {
            if let Err(e) = drive_global_if_needed() {
                return Poll::Ready(Err(e));
            }
        }
        state.register(dir, cx.waker());
        if !reactor.edge && !state.armed[dir as usize] {
            state.armed[dir as usize] = true;
            let (read, write) = (state.first[0].is_some(), state.first[1].is_some());
            if let Err(e) = reactor.rearm(self, read, write) {
                return Poll::Ready(Err(e));
            }
        }
        Poll::Pending
    }

    /// Clears the direction's readiness if no event arrived since `poll_ready` returned `tick`.
    pub(crate) fn clear_ready(&self, dir: Dir, tick: u64) {
        // Fails, leaving it ready, if an event bumped the tick meanwhile.
        let _ = self.readiness[dir as usize].compare_exchange(
            tick,
            tick & !READY,
            Ordering::AcqRel,
            Ordering::Relaxed,
        );
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for readiness in between.
    pub(crate) fn poll_io<R>(
        &self,
        reactor: &Reactor,
        dir: Dir,
        cx: &mut Context<'_>,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let tick = match self.poll_ready(reactor, dir, cx) {
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
}

impl Drop for Reactor {
    fn drop(&mut self) {
        lock(&REACTORS).retain(|(id, _)| *id != self.id);
    }
}

/// The error of an I/O object waiting on a reactor that shut down.
pub(crate) fn closed_error() -> io::Error {
    io::Error::other(
        "the eddy runtime this I/O object was created in has shut down, and nothing drives its I/O \
         any more; create the object in the runtime that uses it",
    )
}

/// Starts the `eddy-io` thread if a source of the global reactor is about to wait on a thread
/// where another reactor is current (a runtime's): that runtime's threads drive only their own
/// reactor, so without it the global one might have no driver. The thread parks in the global
/// reactor for the rest of the process.
fn drive_global_if_needed() -> io::Result<()> {
    static STARTED: AtomicBool = AtomicBool::new(false);
    static STARTING: Mutex<()> = Mutex::new(());
    if STARTED.load(Ordering::Acquire) || Reactor::with_current(|current| current.global) {
        return Ok(());
    }
    let _starting = lock(&STARTING);
    if STARTED.load(Ordering::Acquire) {
        return Ok(());
    }
    let mut parker = crate::Parker::on(Reactor::global().clone());
    let spawned = std::thread::Builder::new().name("eddy-io".into()).spawn(move || loop {
        if let Err(e) = parker.park() {
            panic!("eddy-io: waiting for I/O failed: {e}");
        }
    });
    match spawned {
        Ok(_) => {
            STARTED.store(true, Ordering::Release);
            Ok(())
        }
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("eddy-io: cannot start the thread that drives I/O objects made outside any runtime: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_readiness_protocol_loses_no_event_and_keeps_no_stale_one() {
        let reactor = Reactor::new(false).unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let source = reactor.register(a.as_fd()).unwrap();
        let woken = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(woken.clone());
        let mut cx = Context::from_waker(&waker);
        let mut wakers = Vec::new();

        // A fresh source is ready: the first attempt costs no wait.
        let Poll::Ready(Ok(first)) = source.poll_ready(&reactor, Dir::Read, &mut cx) else {
            panic!("fresh: not ready")
        };
        // An event between that attempt's WouldBlock and its clear: the clear must not undo it.
        source.deliver(true, false, &mut wakers);
        source.clear_ready(Dir::Read, first);
        let Poll::Ready(Ok(second)) = source.poll_ready(&reactor, Dir::Read, &mut cx) else {
            panic!("an event that came before the clear was lost")
        };
        assert_ne!(first, second, "the event bumped the tick");
        // A clear of the current tick sticks, and the next attempt waits.
        source.clear_ready(Dir::Read, second);
        assert!(source.poll_ready(&reactor, Dir::Read, &mut cx).is_pending());
        // The write direction is left as it was.
        assert!(source.poll_ready(&reactor, Dir::Write, &mut cx).is_ready());
        // The event wakes the waiter once, and the direction is ready again.
        source.deliver(true, false, &mut wakers);
        assert_eq!(wakers.len(), 1, "the waiting waker was taken");
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(woken.0.load(Ordering::SeqCst), 1);
        assert!(source.poll_ready(&reactor, Dir::Read, &mut cx).is_ready());
        reactor.deregister(&source).unwrap();
    }

    #[test]
    fn every_waiting_future_is_woken_once_by_its_direction() {
        let reactor = Reactor::new(false).unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let source = reactor.register(a.as_fd()).unwrap();
        let counts: Vec<Arc<Count>> = (0..4).map(|_| Arc::new(Count(AtomicUsize::new(0)))).collect();
        let wakers: Vec<Waker> = counts.iter().map(|count| Waker::from(count.clone())).collect();
        let woken = || counts.iter().map(|count| count.0.load(Ordering::SeqCst)).collect::<Vec<_>>();
        for dir in [Dir::Read, Dir::Write] {
            let Poll::Ready(Ok(tick)) =
                source.poll_ready(&reactor, dir, &mut Context::from_waker(&wakers[0]))
            else {
                panic!("fresh: not ready")
            };
            source.clear_ready(dir, tick);
        }
        // Three futures read (the first twice), one writes.
        for (waker, dir) in [(0, Dir::Read), (1, Dir::Read), (0, Dir::Read), (2, Dir::Read), (3, Dir::Write)]
        {
            assert!(source.poll_ready(&reactor, dir, &mut Context::from_waker(&wakers[waker])).is_pending());
        }
        let mut taken = Vec::new();
        source.deliver(true, false, &mut taken);
        assert_eq!(taken.len(), 3, "each reader once, the writer not");
        taken.drain(..).for_each(Waker::wake);
        assert_eq!(woken(), [1, 1, 1, 0]);
        // A second read event finds nobody waiting to read.
        source.deliver(true, false, &mut taken);
        assert!(taken.is_empty());
        // The writer still waits, and deregistering wakes it.
        reactor.deregister(&source).unwrap();
        assert_eq!(woken(), [1, 1, 1, 1]);
    }

    /// Wakes a thread, and records that it did.
    struct Unpark {
        thread: std::thread::Thread,
        woken: AtomicBool,
    }

    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.woken.store(true, Ordering::SeqCst);
            self.thread.unpark();
        }
    }

    #[test]
    fn events_racing_attempts_on_another_thread_lose_no_wakeup() {
        // One thread makes a unit of data available and delivers an event, then waits until the
        // other has taken it; the other runs the protocol of `poll_io` against that data (an
        // attempt takes a unit or would block). So each event races the taker's attempt that
        // would block, its clear and its wait, and a lost event leaves it waiting with data
        // available for good: it fails then, after 10 s without a wake, rather than hang.
        const EVENTS: u64 = 50_000;
        let reactor = Reactor::new(false).unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let source = reactor.register(a.as_fd()).unwrap();
        let (available, taken) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let producer = {
            let (source, available, taken) = (source.clone(), available.clone(), taken.clone());
            std::thread::spawn(move || {
                let mut wakers = Vec::new();
                for made in 1..=EVENTS {
                    available.store(made, Ordering::SeqCst);
                    source.deliver(true, false, &mut wakers);
                    wakers.drain(..).for_each(Waker::wake);
                    // Waits as long as the taker does, then stops producing, so that a lost
                    // event fails the taker's wait instead of being covered by the next event.
                    let deadline = Instant::now() + std::time::Duration::from_secs(10);
                    while taken.load(Ordering::SeqCst) < made {
                        if Instant::now() > deadline {
                            return;
                        }
                        std::thread::yield_now();
                    }
                }
            })
        };
        let unpark = Arc::new(Unpark { thread: std::thread::current(), woken: AtomicBool::new(false) });
        let waker = Waker::from(unpark.clone());
        let mut cx = Context::from_waker(&waker);
        while taken.load(Ordering::SeqCst) < EVENTS {
            let had = taken.load(Ordering::SeqCst);
            match source.poll_ready(&reactor, Dir::Read, &mut cx) {
                Poll::Ready(Ok(_)) if available.load(Ordering::SeqCst) > had => {
                    taken.store(had + 1, Ordering::SeqCst);
                }
                Poll::Ready(Ok(tick)) => source.clear_ready(Dir::Read, tick),
                Poll::Ready(Err(e)) => panic!("the reactor failed: {e}"),
                Poll::Pending => {
                    let deadline = Instant::now() + std::time::Duration::from_secs(10);
                    while !unpark.woken.swap(false, Ordering::SeqCst) {
                        let left = deadline.saturating_duration_since(Instant::now());
                        assert!(
                            !left.is_zero(),
                            "a wakeup was lost: {had} units taken, {} available",
                            available.load(Ordering::SeqCst)
                        );
                        std::thread::park_timeout(left);
                    }
                }
            }
        }
        producer.join().unwrap();
        reactor.deregister(&source).unwrap();
    }
}
