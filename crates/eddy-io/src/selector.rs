//! The selector: the poller, and the driver's wait on it.
//!
//! Sources are registered through `polling` on every platform. On Linux and Android the driver
//! then waits with a single `epoll_wait` on the poller's own descriptor rather than with
//! `Poller::wait`, which makes five syscalls per call in polling 3.11: it sets its timerfd and
//! re-arms it, and reads and re-arms its notification eventfd, whether the wait has a timeout
//! and was notified or not. Waits are what a busy server does most: in the `tcp_echo` benchmark
//! the four extra syscalls per wait were about 5,000 per run, which is the margin eddy lost to
//! tokio there (see `docs/BENCHMARKS.md`).
//!
//! What the Linux path does instead:
//! - **Notification** is an eventfd of eddy's own, registered in the poller edge-triggered under
//!   `NOTIFY_KEY`: every write makes a new edge, so nothing is read or re-armed after a wait.
//!   Notifications coalesce: until the next wait returns, only the first one writes.
//! - **Timeouts** go to `epoll_wait` in milliseconds, rounded up, as mio and asyncio do: a timer
//!   fires at most a millisecond after its deadline, never before it.
//!
//! It relies on one fact of polling's epoll backend: the key given at registration is the `u64`
//! data of the epoll event. The test `keys_reach_epoll_as_registered` pins it, so a `polling`
//! that changed it would fail the test suite rather than lose events.
//!
//! Elsewhere (kqueue, event ports, IOCP) the driver waits with `Poller::wait`, which costs one
//! syscall there.

use std::io;
use std::time::Duration;

use polling::{Event, Poller};

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use epoll::{Events, Selector};
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use portable::{Events, Selector};

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll {
    use std::os::fd::{AsFd, AsRawFd, OwnedFd};
    use std::sync::atomic::{AtomicBool, Ordering};

    use polling::PollMode;
    use rustix::buffer::spare_capacity;
    use rustix::event::{epoll, eventfd, EventfdFlags, Timespec};
    use rustix::io::Errno;

    use super::*;

    /// The key of eddy's notification eventfd: the top bit alone. Never a source's, whose top
    /// bit is clear (see `Reactor::register`), nor polling's own, `usize::MAX`.
    const NOTIFY_KEY: usize = 1 << (usize::BITS - 1);

    /// How many events one wait takes in at most (as `polling::Events::new`).
    const CAPACITY: usize = 1024;

    pub(crate) struct Selector {
        pub(crate) poller: Poller,
        notifier: OwnedFd,
        /// Set by the first notification after a wait; later ones need not write.
        notified: AtomicBool,
    }

    impl Selector {
        pub(crate) fn new() -> io::Result<Selector> {
            let poller = Poller::new()?;
            let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            // SAFETY: `Drop` deletes the eventfd from the poller before it is closed.
            unsafe {
                poller.add_with_mode(notifier.as_raw_fd(), Event::readable(NOTIFY_KEY), PollMode::Edge)?
            };
            Ok(Selector { poller, notifier, notified: AtomicBool::new(false) })
        }

        /// Makes the current wait return, or the next one if no thread is waiting.
        pub(crate) fn notify(&self) {
            // `SeqCst` as in `polling`: callers order their own `SeqCst` flags around this.
            if self.notified.swap(true, Ordering::SeqCst) {
                return;
            }
            loop {
                match rustix::io::write(&self.notifier, &1u64.to_ne_bytes()) {
                    Err(Errno::INTR) => {}
                    // The counter is full (after 2^64 - 2 writes): empty it and write again.
                    // Edge-triggered, it is never read otherwise.
                    Err(Errno::AGAIN) => {
                        let _ = rustix::io::read(&self.notifier, &mut [0; 8]);
                    }
                    // Any other failure means the eventfd is broken; the poller is unusable
                    // then, and the next wait reports it.
                    _ => return,
                }
            }
        }

        /// Waits until a source is ready, the selector is notified, or `timeout` has passed.
        pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
            events.list.clear();
            // A timeout too long to express waits forever, as `polling` does.
            let timeout = timeout.and_then(|t| Timespec::try_from(t).ok());
            let result = epoll::wait(self.poller.as_fd(), spare_capacity(&mut events.list), timeout.as_ref());
            self.notified.store(false, Ordering::SeqCst);
            result.map(drop).map_err(io::Error::from)
        }
    }

    impl Drop for Selector {
        fn drop(&mut self) {
            let _ = self.poller.delete(self.notifier.as_fd());
        }
    }

    /// The events one wait returned.
    pub(crate) struct Events {
        list: Vec<epoll::Event>,
    }

    // SAFETY: an event's data is a key, never a pointer (`epoll::Event` is not `Send` only
    // because its data may be one).
    unsafe impl Send for Events {}

    impl Events {
        pub(crate) fn new() -> Events {
            Events { list: Vec::with_capacity(CAPACITY) }
        }

        /// Whether no source is ready: a wait that only the notification ended counts as empty
        /// (as in `polling::Events`), so the reactor does not lock its sources for it.
        pub(crate) fn is_empty(&self) -> bool {
            self.iter().next().is_none()
        }

        pub(crate) fn clear(&mut self) {
            self.list.clear();
        }

        /// The sources' events (the notification is left out), decoded as `polling` does.
        pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
            use epoll::EventFlags as F;
            self.list.iter().filter_map(|ev| {
                let key = ev.data.u64() as usize;
                let flags = ev.flags;
                (key != NOTIFY_KEY).then(|| {
                    Event::new(
                        key,
                        flags.intersects(F::IN | F::HUP | F::ERR | F::PRI),
                        flags.intersects(F::OUT | F::HUP | F::ERR),
                    )
                })
            })
        }
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod portable {
    use super::*;

    pub(crate) struct Selector {
        pub(crate) poller: Poller,
    }

    impl Selector {
        pub(crate) fn new() -> io::Result<Selector> {
            Ok(Selector { poller: Poller::new()? })
        }

        /// Makes the current wait return, or the next one if no thread is waiting.
        pub(crate) fn notify(&self) {
            // A failure means the poller is unusable; the next wait reports it.
            let _ = self.poller.notify();
        }

        /// Waits until a source is ready, the selector is notified, or `timeout` has passed.
        pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
            events.list.clear();
            self.poller.wait(&mut events.list, timeout).map(drop)
        }
    }

    /// The events one wait returned.
    pub(crate) struct Events {
        list: polling::Events,
    }

    impl Events {
        pub(crate) fn new() -> Events {
            Events { list: polling::Events::new() }
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.list.is_empty()
        }

        pub(crate) fn clear(&mut self) {
            self.list.clear();
        }

        pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
            self.list.iter()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::time::Instant;

    use polling::PollMode;

    use super::*;

    #[test]
    fn keys_reach_epoll_as_registered() {
        let selector = Selector::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let key = 0x7654_3210_0000_0042_u64 as usize;
        // SAFETY: deleted below, before `a` is dropped.
        unsafe { selector.poller.add_with_mode(a.as_raw_fd(), Event::readable(key), PollMode::Edge) }
            .unwrap();
        b.write_all(b"x").unwrap();
        let mut events = Events::new();
        selector.wait(&mut events, Some(Duration::from_secs(5))).unwrap();
        let got: Vec<Event> = events.iter().collect();
        selector.poller.delete(&a).unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].key, got[0].readable, got[0].writable), (key, true, false));
    }

    #[test]
    fn a_notification_ends_the_wait_once_and_is_not_reported() {
        let selector = Selector::new().unwrap();
        let mut events = Events::new();
        selector.notify();
        selector.notify();
        selector.wait(&mut events, Some(Duration::from_secs(5))).unwrap();
        assert!(events.iter().next().is_none());
        // Consumed: the next wait times out.
        let start = Instant::now();
        selector.wait(&mut events, Some(Duration::from_millis(30))).unwrap();
        assert!(events.iter().next().is_none());
        assert!(start.elapsed() >= Duration::from_millis(30));
        // And a new notification after a wait ends the next one again.
        selector.notify();
        selector.wait(&mut events, None).unwrap();
    }

    #[test]
    fn a_notification_from_another_thread_ends_a_wait_without_timeout() {
        let selector = std::sync::Arc::new(Selector::new().unwrap());
        let notifier = selector.clone();
        let thread = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            notifier.notify();
        });
        selector.wait(&mut Events::new(), None).unwrap();
        thread.join().unwrap();
    }

    #[test]
    fn a_timeout_is_never_cut_short() {
        let selector = Selector::new().unwrap();
        let mut events = Events::new();
        for micros in [1, 300, 1_500] {
            let timeout = Duration::from_micros(micros);
            let start = Instant::now();
            selector.wait(&mut events, Some(timeout)).unwrap();
            assert!(start.elapsed() >= timeout, "{micros} µs");
        }
    }
}
