//! The injector: the queue shared by all workers, for tasks spawned or woken off the workers.
//!
//! A ring of fixed capacity in front of an unbounded queue, both `concurrent-queue`s. An
//! unbounded `concurrent-queue` allocates a block for every 31 items and frees it once the last of
//! them is popped: the spawning thread allocates it, a worker frees it. With glibc's allocator a
//! block (about 500 bytes) is too large for the lock-free fast bins, so each of those frees takes
//! the lock of the arena the spawner is allocating its tasks from, while it does. In
//! `spawn_many_remote` (10,000 spawns from one thread outside the workers) that lock took
//! 22,000 futex calls per 200 iterations, against 800 with the ring. The ring is allocated once,
//! so a spawn from outside allocates the task and nothing else.
//!
//! A push goes to the ring unless it is full or the overflow queue holds tasks; then it goes to
//! the overflow queue. A pop takes from the ring, then from the overflow queue. While the
//! overflow queue holds tasks the ring only drains, so a task that overflowed waits behind at
//! most the ring's content, never behind tasks pushed after it (up to races between a push and a
//! pop that empties the overflow queue at the same moment).

use concurrent_queue::{ConcurrentQueue, PushError};

/// How many tasks the ring holds (16 bytes each).
const RING_CAPACITY: usize = if cfg!(loom) { 2 } else { 1024 };

/// Generic so that its tests can queue plain numbers; the executor queues `Runnable`s.
pub(crate) struct Injector<T> {
    ring: ConcurrentQueue<T>,
    overflow: ConcurrentQueue<T>,
}

impl<T> Injector<T> {
    pub(crate) fn new() -> Injector<T> {
        Injector { ring: ConcurrentQueue::bounded(RING_CAPACITY), overflow: ConcurrentQueue::unbounded() }
    }

    /// Queues an item; never fails (the queues are never closed, the overflow is unbounded).
    pub(crate) fn push(&self, item: T) {
        let item = if self.overflow.is_empty() {
            match self.ring.push(item) {
                Ok(()) => return,
                Err(PushError::Full(item) | PushError::Closed(item)) => item,
            }
        } else {
            item
        };
        let _ = self.overflow.push(item);
    }

    pub(crate) fn pop(&self) -> Option<T> {
        self.ring.pop().or_else(|_| self.overflow.pop()).ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ring.is_empty() && self.overflow.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.ring.len() + self.overflow.len()
    }

    /// Takes every queued item out (shutdown).
    pub(crate) fn drain(&self) -> impl Iterator<Item = T> + '_ {
        self.ring.try_iter().chain(self.overflow.try_iter())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn items_come_out_in_order_across_the_overflow() {
        let injector = Injector::new();
        let n = RING_CAPACITY + 100;
        for i in 0..n {
            injector.push(i);
        }
        assert_eq!(injector.len(), n);
        // Half-way through the ring, more arrive: they queue behind the overflow.
        for i in 0..RING_CAPACITY / 2 {
            assert_eq!(injector.pop(), Some(i));
        }
        for i in n..n + 10 {
            injector.push(i);
        }
        let rest: Vec<_> = std::iter::from_fn(|| injector.pop()).collect();
        assert_eq!(rest, (RING_CAPACITY / 2..n + 10).collect::<Vec<_>>());
        assert!(injector.is_empty());
    }

    #[test]
    fn the_ring_is_used_again_once_the_overflow_is_empty() {
        let injector = Injector::new();
        for i in 0..RING_CAPACITY + 1 {
            injector.push(i);
        }
        while injector.pop().is_some() {}
        injector.push(7);
        assert_eq!(injector.ring.len(), 1);
        assert_eq!(injector.drain().collect::<Vec<_>>(), [7]);
    }

    #[test]
    fn drain_takes_everything() {
        let injector = Injector::new();
        for i in 0..RING_CAPACITY * 2 {
            injector.push(i);
        }
        assert_eq!(injector.drain().count(), RING_CAPACITY * 2);
        assert!(injector.is_empty());
    }
}
