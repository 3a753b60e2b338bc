//! [`Driver`]: a reactor of one's own, for a runtime.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::reactor::Reactor;
use crate::Parker;

/// A reactor of its own, for a runtime: the I/O objects and timers made or polled where it is
/// entered are served by it, and driven only by the threads that park in it.
///
/// Without one, every thread uses the process-wide global reactor, which is right for a single
/// executor or none. A runtime that shares the process with others takes a `Driver`, so that its
/// idle threads never wait on another runtime's events (the `eddy` facade gives each `Runtime`
/// one): it enters the driver on each of its threads ([`enter`](Self::enter)), parks them in it
/// ([`parker`](Self::parker)), and shuts it down when it stops ([`shutdown`](Self::shutdown)).
///
/// - An I/O object ([`Async`](crate::Async), the `net` types) keeps the reactor current where it
///   was made. It may be used from any thread while its reactor is driven; once the reactor has
///   shut down, waiting on it fails with an error that says so.
/// - A timer registers with the reactor current where it is polled, and moves if polled under
///   another one.
/// - An I/O object of the global reactor (made where no driver was entered, from a `std` socket
///   before the runtime started, say) also works inside a runtime: the first time one waits
///   where a driver is entered, a thread named `eddy-io` starts and drives the global reactor
///   for the rest of the process.
///
/// ```
/// use std::future::Future;
/// use std::time::Duration;
///
/// let driver = eddy_io::Driver::new()?;
/// let mut parker = driver.parker();
/// let _entered = driver.enter();
/// // Sleeps registered here go to `driver`, which `parker` drives.
/// let mut timer = eddy_io::sleep(Duration::from_millis(1));
/// let waker = parker.waker();
/// let mut cx = std::task::Context::from_waker(&waker);
/// while std::pin::Pin::new(&mut timer).poll(&mut cx).is_pending() {
///     parker.park()?;
/// }
/// driver.shutdown();
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone)]
pub struct Driver {
    reactor: Arc<Reactor>,
}

impl Driver {
    /// Creates a reactor.
    ///
    /// # Errors
    ///
    /// Fails if the OS refuses to create the poller (out of file descriptors, say).
    pub fn new() -> io::Result<Driver> {
        Ok(Driver { reactor: Reactor::new(false)? })
    }

    /// Makes this reactor current on the calling thread until the guard drops: I/O objects made
    /// and timers polled meanwhile use it, as do [`Parker::new`] and [`block_on`](crate::block_on).
    /// Guards nest; dropping one restores what was current before it.
    pub fn enter(&self) -> EnterGuard {
        EnterGuard { previous: Reactor::set_current(Some(self.reactor.clone())), _not_send: PhantomData }
    }

    /// A parker that drives this reactor, whichever reactor is current where it parks.
    pub fn parker(&self) -> Parker {
        Parker::on(self.reactor.clone())
    }

    /// Shuts the reactor down: nothing will drive it any more. Every future waiting on it is
    /// woken; I/O objects made under it then fail their waits with an error (what needs no wait
    /// still completes), and timers move to the reactor current where they are polled next.
    /// Call it once the threads that parked in it have stopped. Idempotent.
    pub fn shutdown(&self) {
        self.reactor.shutdown();
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("id", &self.reactor.id)
            .field("shut_down", &self.reactor.is_closed())
            .finish_non_exhaustive()
    }
}

/// Keeps a [`Driver`] current on this thread; made by [`Driver::enter`].
#[must_use = "the driver is current only until the guard drops"]
pub struct EnterGuard {
    previous: Option<Arc<Reactor>>,
    /// Current-ness is per thread: the guard must drop where it was made.
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let _left = Reactor::set_current(self.previous.take());
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
