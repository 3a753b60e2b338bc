//! The timer queue behind [`Timer`](crate::Timer).
//!
//! Timers live in a `BTreeMap` keyed by `(deadline, id)` (the deadline in nanoseconds since the
//! queue's creation), owned by the reactor's driver. Futures
//! never lock it to insert or cancel: they push an [`Op`] onto a bounded lock-free queue, and
//! the driver applies the queued ops at the start of each turn. So an insert or a cancel is one
//! queue push (O(1), no lock), and applying it is O(log n). A timer that fired needs no cancel:
//! the turn that fired it took it out, and `fired_through` tells so (see [`Timers::remove`]).
//!
//! **Syscalls.** An insert wakes the driver (one `eventfd` write) only if its deadline is earlier
//! than the one the driver is sleeping to, published in `sleeping_until` just before it blocks.
//! A cancel never does: a driver that wakes for a cancelled timer finds nothing due and sleeps
//! again. The store of `sleeping_until` and the check of the queue that follows it, against the
//! push and the load of `sleeping_until` on the inserting side, are all `SeqCst`: either the
//! driver sees the op before it blocks, or the inserter sees the deadline and notifies.
//!
//! **Overflow.** If the queue is full (the driver is busy elsewhere and many timers come and
//! go), the inserting thread takes the map's lock and applies the queue itself, so memory stays
//! bounded by the live timers however many are created and dropped. Such an insert always
//! notifies the driver: it emptied the queue the driver checks before it blocks.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::Waker;
use std::time::{Duration, Instant};

use concurrent_queue::{ConcurrentQueue, PushError};

use crate::reactor::lock;

/// How many timer operations may wait for the driver before inserters apply them themselves.
const QUEUE_CAPACITY: usize = 1024;

/// `sleeping_until` when the driver is not blocked: no insert needs to notify it.
const AWAKE: u64 = 0;
/// `sleeping_until` when the driver is blocked with no deadline.
const FOREVER: u64 = u64::MAX;

pub(crate) enum Op {
    /// An encoded deadline (see `Timers::encode`), an id and the waker.
    Insert(u64, u64, Waker),
    Remove(u64, u64),
}

pub(crate) struct Timers {
    ops: ConcurrentQueue<Op>,
    /// Keyed by encoded deadline and id: two integers compare and move faster than an
    /// `Instant` and an id.
    map: Mutex<BTreeMap<(u64, u64), Waker>>,
    /// How many timers the map holds, stored under its lock whenever that changes: a turn with
    /// no timer and no queued op leaves the map, its lock and the clock alone.
    live: AtomicUsize,
    next_id: AtomicU64,
    /// The deadline the driver sleeps to, in nanoseconds since `epoch` (plus one, so that 0 can
    /// mean `AWAKE`), or `FOREVER`.
    sleeping_until: AtomicU64,
    /// The `now` of the last `fire_due`, encoded like `sleeping_until` (0: none yet). Every
    /// timer with a deadline up to it has left the map, or will fire at the next turn.
    fired_through: AtomicU64,
    epoch: Instant,
}

impl Timers {
    pub(crate) fn new() -> Timers {
        Timers {
            ops: ConcurrentQueue::bounded(QUEUE_CAPACITY),
            map: Mutex::new(BTreeMap::new()),
            live: AtomicUsize::new(0),
            next_id: AtomicU64::new(1),
            sleeping_until: AtomicU64::new(AWAKE),
            fired_through: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// `when` in nanoseconds since `epoch`, plus one (0 is `AWAKE`), saturating below `FOREVER`:
    /// monotonic, and exact for every deadline a timer registers (within `FAR_FUTURE`).
    fn encode(&self, when: Instant) -> u64 {
        let nanos = when.saturating_duration_since(self.epoch).as_nanos();
        u64::try_from(nanos).unwrap_or(FOREVER - 1).saturating_add(1).min(FOREVER - 1)
    }

    /// The instant `encode` turned into `encoded`: `when` itself, or `epoch` for an instant
    /// before it (due at once either way).
    fn decode(&self, encoded: u64) -> Instant {
        self.epoch + Duration::from_nanos(encoded - 1)
    }

    /// Registers a timer firing at `when` that wakes `waker`; returns its id, and whether the
    /// driver sleeps past `when` and must be notified.
    pub(crate) fn insert(&self, when: Instant, waker: &Waker) -> (u64, bool) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let when = self.encode(when);
        if !self.push(Op::Insert(when, id, waker.clone())) {
            // Put in the map directly, with the queued ops: the driver may have passed both its
            // look at the map and its check of the queue and be about to block, with no deadline
            // for this timer, before it publishes `sleeping_until`. Only a notification reaches
            // it then.
            return (id, true);
        }
        let sleeping_until = self.sleeping_until.load(Ordering::SeqCst);
        (id, sleeping_until != AWAKE && when < sleeping_until)
    }

    /// Cancels the timer `id` registered for `when`.
    ///
    /// A timer whose deadline a `fire_due` has already passed needs no op: that turn took it out
    /// of the map, or its insert was still queued then and the next turn fires it (a spurious
    /// wake, which futures allow). So a timer that completes costs no removal, and one that no
    /// turn has passed is removed as before, so timers never pile up in a map no turn drains.
    pub(crate) fn remove(&self, when: Instant, id: u64) {
        let when = self.encode(when);
        if when <= self.fired_through.load(Ordering::Acquire) {
            return;
        }
        // A removal applied at once needs no notification: the driver wakes early at worst.
        let _ = self.push(Op::Remove(when, id));
    }

    /// Queues `op` for the driver; returns false if the queue was full and `op` was applied to
    /// the map at once, with every queued op.
    fn push(&self, op: Op) -> bool {
        match self.ops.push(op) {
            Ok(()) => true,
            Err(PushError::Full(op)) => {
                let mut map = lock(&self.map);
                self.apply_queued(&mut map);
                apply(&mut map, op);
                self.publish_len(&map);
                false
            }
            Err(PushError::Closed(_)) => unreachable!("the timer queue is never closed"),
        }
    }

    fn apply_queued(&self, map: &mut BTreeMap<(u64, u64), Waker>) {
        for op in self.ops.try_iter() {
            apply(map, op);
        }
    }

    /// Publishes the map's size; called under its lock after a change.
    fn publish_len(&self, map: &BTreeMap<(u64, u64), Waker>) {
        if self.live.load(Ordering::Relaxed) != map.len() {
            self.live.store(map.len(), Ordering::Release);
        }
    }

    pub(crate) fn has_pending_ops(&self) -> bool {
        !self.ops.is_empty()
    }

    /// Applies queued ops, moves the wakers of every timer due by now into `wakers`, and returns
    /// the next deadline.
    ///
    /// With no timer and no queued op it returns at once. An op queued meanwhile is the next
    /// turn's, or, if its insert comes before the driver blocks, the driver's check of the queue
    /// then sees it; an insert that skips the queue notifies the driver (see [`Timers::insert`]).
    pub(crate) fn fire_due(&self, wakers: &mut Vec<Waker>) -> Option<Instant> {
        if self.ops.is_empty() && self.live.load(Ordering::Acquire) == 0 {
            return None;
        }
        let mut map = lock(&self.map);
        self.apply_queued(&mut map);
        let now = self.encode(Instant::now());
        // Entries strictly before (now, MAX) are due: deadline <= now.
        let pending = map.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut *map, pending);
        // Under the lock, after the split: a remove that reads this finds its timer gone.
        self.fired_through.fetch_max(now, Ordering::Release);
        self.publish_len(&map);
        wakers.extend(due.into_values());
        map.keys().next().map(|&(when, _)| self.decode(when))
    }

    /// Moves the wakers of every timer, due or not, into `wakers` (the reactor shuts down).
    pub(crate) fn take_all(&self, wakers: &mut Vec<Waker>) {
        let mut map = lock(&self.map);
        self.apply_queued(&mut map);
        wakers.extend(std::mem::take(&mut *map).into_values());
        self.publish_len(&map);
    }

    /// Publishes that the driver is about to block until `until`.
    pub(crate) fn about_to_sleep(&self, until: Option<Instant>) {
        let value = until.map_or(FOREVER, |t| self.encode(t));
        self.sleeping_until.store(value, Ordering::SeqCst);
    }

    /// Publishes that the driver no longer blocks.
    pub(crate) fn woke_up(&self) {
        self.sleeping_until.store(AWAKE, Ordering::SeqCst);
    }

    /// The number of registered timers, after applying queued ops. For tests and diagnostics.
    pub(crate) fn len(&self) -> usize {
        let mut map = lock(&self.map);
        self.apply_queued(&mut map);
        self.publish_len(&map);
        map.len()
    }
}

fn apply(map: &mut BTreeMap<(u64, u64), Waker>, op: Op) {
    match op {
        Op::Insert(when, id, waker) => {
            map.insert((when, id), waker);
        }
        Op::Remove(when, id) => {
            map.remove(&(when, id));
        }
    }
}

/// The longest wait that is not "forever": deadlines further out are treated as none.
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_turn_skips_the_map_only_when_it_holds_no_timer() {
        let timers = Timers::new();
        let mut wakers = Vec::new();
        assert_eq!(timers.fire_due(&mut wakers), None, "nothing registered");
        let later = Instant::now() + Duration::from_secs(60);
        timers.insert(Instant::now(), Waker::noop());
        timers.insert(later, Waker::noop());
        assert_eq!(timers.fire_due(&mut wakers), Some(later));
        assert_eq!(wakers.len(), 1);
        // No op is queued now, but a timer is still registered: the next turn must see it.
        assert!(!timers.has_pending_ops());
        assert_eq!(timers.fire_due(&mut wakers), Some(later), "a live timer was skipped");
        // Once it is gone, turns skip the map again; a new timer is seen through its op.
        timers.take_all(&mut wakers);
        assert_eq!(timers.fire_due(&mut wakers), None);
        timers.insert(later, Waker::noop());
        assert_eq!(timers.fire_due(&mut wakers), Some(later));
    }

    #[test]
    fn an_insert_that_finds_the_queue_full_notifies_the_driver() {
        // The driver has taken its turn (the map is empty, nothing due) and has not yet
        // published that it sleeps: inserts that queue their op leave it to the driver's check
        // of the queue, but one that finds the queue full applies every op itself, so that
        // check finds nothing, and the driver must be told.
        let timers = Timers::new();
        assert_eq!(timers.fire_due(&mut Vec::new()), None);
        let when = Instant::now() + Duration::from_secs(60);
        for _ in 0..QUEUE_CAPACITY {
            let (_, notify) = timers.insert(when, Waker::noop());
            assert!(!notify, "the driver is awake and will see the queued op");
        }
        let (_, notify) = timers.insert(when, Waker::noop());
        assert!(notify, "the op went to the map, past the driver's check of the queue");
        assert!(!timers.has_pending_ops());
        assert_eq!(timers.len(), QUEUE_CAPACITY + 1);
    }

    #[test]
    fn a_timer_a_turn_has_passed_is_removed_without_an_op_and_others_with_one() {
        let timers = Timers::new();
        let now = Instant::now();
        let (past, future) = (now, now + Duration::from_secs(60));
        let (past_id, _) = timers.insert(past, Waker::noop());
        let (future_id, _) = timers.insert(future, Waker::noop());
        let mut wakers = Vec::new();
        assert_eq!(timers.fire_due(&mut wakers), Some(future));
        assert_eq!(wakers.len(), 1, "the due timer fired");
        // The fired one: its turn took it out of the map, so its removal queues nothing.
        timers.remove(past, past_id);
        assert!(!timers.has_pending_ops(), "a removal was queued for a timer that already fired");
        // The pending one is still in the map: its removal must reach it.
        timers.remove(future, future_id);
        assert!(timers.has_pending_ops());
        assert_eq!(timers.len(), 0, "the pending timer stayed registered");
    }
}
