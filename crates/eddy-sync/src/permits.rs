//! FIFO permits with direct hand-off: the core of [`Lock`](crate::Lock) and the semaphores.
//!
//! asyncio's `Lock` and `Semaphore` are fair: once a task waits, later arrivals queue behind it,
//! even if a permit is free at the moment they arrive. That rules out the usual "release, then
//! let everyone race" design (async-lock's), so a release here *hands* the permit to the oldest
//! waiter instead of returning it to the pool.
//!
//! # Protocol
//!
//! `State` sits behind a `std::sync::Mutex` that is held only for a few instructions; the wait
//! list itself is an `event_listener::Event`, whose listeners are notified oldest first.
//!
//! - `available`: permits nobody holds and nobody has been handed.
//! - `waiting`: listeners in the event that have not been notified. Only code holding the mutex
//!   creates, notifies or discards a listener, so this count matches the event's list exactly.
//!
//! 1. Acquire: if `waiting == 0 && available > 0`, take a permit. Otherwise `waiting += 1` and
//!    listen, both under the mutex.
//! 2. Release: if `waiting > 0`, `waiting -= 1` and notify *one additional* listener: that
//!    notification is the permit, handed over. Otherwise `available += 1`.
//! 3. A waiter whose listener completes owns the permit (nothing else to check).
//! 4. A waiter dropped while queued discards its listener under the mutex. If the listener had
//!    been notified, the waiter owned a permit it never used, so it releases it (step 2, which
//!    hands it on); if not, `waiting -= 1`. Either way no permit leaks and nobody behind it is
//!    left waiting for a notification that went to a dropped listener.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use event_listener::{Event, EventListener, IntoNotification, Listener};

#[derive(Debug)]
struct State {
    available: usize,
    waiting: usize,
}

/// A FIFO-fair counting permit pool. See the module documentation for the protocol.
#[derive(Debug)]
pub(crate) struct Permits {
    state: Mutex<State>,
    event: Event,
}

impl Permits {
    pub(crate) const fn new(available: usize) -> Self {
        Self { state: Mutex::new(State { available, waiting: 0 }), event: Event::new() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        crate::lock(&self.state)
    }

    /// Takes a permit if one is free and nobody is queued.
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = self.state();
        if state.waiting == 0 && state.available > 0 {
            state.available -= 1;
            true
        } else {
            false
        }
    }

    /// Waits in line for a permit.
    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire { permits: self, listener: None }
    }

    /// Returns a permit: hands it to the oldest waiter, or puts it back in the pool.
    pub(crate) fn release(&self) {
        let mut state = self.state();
        self.release_locked(&mut state);
    }

    /// Returns a permit unless that would make more than `bound` available.
    pub(crate) fn release_bounded(&self, bound: usize) -> bool {
        let mut state = self.state();
        if state.waiting == 0 && state.available >= bound {
            return false;
        }
        self.release_locked(&mut state);
        true
    }

    fn release_locked(&self, state: &mut State) {
        if state.waiting > 0 {
            state.waiting -= 1;
            self.event.notify(1.additional());
        } else {
            state.available += 1;
        }
    }

    /// Permits free right now (0 while tasks are queued).
    pub(crate) fn available(&self) -> usize {
        self.state().available
    }

    /// Tasks queued for a permit.
    pub(crate) fn waiting(&self) -> usize {
        self.state().waiting
    }
}

/// The future of [`Permits::acquire`]; completes owning one permit.
#[derive(Debug)]
pub(crate) struct Acquire<'a> {
    permits: &'a Permits,
    listener: Option<EventListener>,
}

impl Future for Acquire<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let listener = match &mut this.listener {
            Some(listener) => listener,
            None => {
                let mut state = this.permits.state();
                if state.waiting == 0 && state.available > 0 {
                    state.available -= 1;
                    return Poll::Ready(());
                }
                state.waiting += 1;
                this.listener.insert(this.permits.event.listen())
            }
        };
        match Pin::new(listener).poll(cx) {
            Poll::Ready(()) => {
                // The notification was the permit (protocol step 3).
                this.listener = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(listener) = self.listener.take() {
            // Protocol step 4.
            let mut state = self.permits.state();
            if listener.discard() {
                self.permits.release_locked(&mut state);
            } else {
                state.waiting -= 1;
            }
        }
    }
}
