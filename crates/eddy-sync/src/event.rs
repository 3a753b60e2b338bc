//! [`Event`]: asyncio's `Event`, a flag tasks can wait for.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// A flag that tasks wait on (asyncio's `Event`): [`set`](Self::set) wakes every waiter,
/// [`clear`](Self::clear) resets it so later [`wait`](Self::wait)s block again.
///
/// A task that was waiting when the flag was set returns from `wait` even if the flag is cleared
/// before it runs: it saw the event happen.
///
/// ```
/// use eddy_sync::Event;
/// use std::sync::Arc;
///
/// # let ex = eddy_local::LocalExecutor::new();
/// # ex.block_on(&mut eddy_task::ThreadPark::new(), async {
/// let started = Arc::new(Event::new());
/// let waiter = eddy_task::spawn({
///     let started = started.clone();
///     async move { started.wait().await; "go" }
/// });
/// started.set();
/// assert!(started.is_set());
/// assert_eq!(waiter.await.unwrap(), "go");
/// # });
/// ```
pub struct Event {
    // Bit 0: the flag. Bits 1..: how many times it went from clear to set, so a waiter can tell
    // "set and cleared again since I looked" from "never set".
    state: AtomicU64,
    event: event_listener::Event,
}

const SET: u64 = 1;

impl Event {
    /// Creates a cleared event.
    pub const fn new() -> Self {
        Self { state: AtomicU64::new(0), event: event_listener::Event::new() }
    }

    /// Sets the flag and wakes every waiting task. Setting a set event does nothing.
    pub fn set(&self) {
        let mut state = self.state.load(SeqCst);
        loop {
            if state & SET != 0 {
                return;
            }
            match self.state.compare_exchange_weak(state, (state + 2) | SET, SeqCst, SeqCst) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        self.event.notify(usize::MAX);
    }

    /// Clears the flag; later [`wait`](Self::wait)s block until the next [`set`](Self::set).
    pub fn clear(&self) {
        self.state.fetch_and(!SET, SeqCst);
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.load(SeqCst) & SET != 0
    }

    /// Returns at once if the flag is set, otherwise when it is next set.
    pub async fn wait(&self) {
        let seen = self.state.load(SeqCst);
        if seen & SET != 0 {
            return;
        }
        loop {
            // Listen before looking again, so a `set` in between is not missed.
            let listener = self.event.listen();
            if self.state.load(SeqCst) != seen {
                return;
            }
            listener.await;
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("is_set", &self.is_set()).finish()
    }
}
