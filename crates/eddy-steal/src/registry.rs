//! The registry of tasks that have waited (a task registers the first time it returns
//! `Pending`), sharded so that registrations and completions on different threads
//! rarely meet on the same lock.
//!
//! Each shard is a mutex around a slab of wakers. A key is `index * shards + shard`, so
//! `unregister` finds its shard without a lookup. Shutdown ([`Registry::close`]) marks every shard
//! closed under its lock, so a registration racing with shutdown either lands before (and is
//! drained) or sees `closed` and is refused.

use std::task::Waker;

use slab::Slab;

use crate::sync::{lock, Mutex};

pub(crate) struct Registry {
    shards: Box<[Mutex<Shard>]>,
}

#[derive(Default)]
struct Shard {
    tasks: Slab<Waker>,
    closed: bool,
}

impl Registry {
    pub(crate) fn new(shards: usize) -> Registry {
        Registry { shards: (0..shards.max(1)).map(|_| Mutex::new(Shard::default())).collect() }
    }

    /// Records a live task in a shard chosen from `hint` (a number that differs between
    /// threads) and a per-thread turn, so that each thread spreads its tasks over every shard: the
    /// shards fill evenly whichever worker runs what, and none grows past its share. `None` once
    /// closed.
    pub(crate) fn register(&self, hint: usize, waker: Waker) -> Option<usize> {
        thread_local! {
            static TURN: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
        }
        let turn = TURN.with(|turn| {
            let t = turn.get();
            turn.set(t.wrapping_add(1));
            t
        });
        let n = self.shards.len();
        let shard = hint.wrapping_add(turn) % n;
        let mut guard = lock(&self.shards[shard]);
        if guard.closed {
            return None;
        }
        let tasks = &mut guard.tasks;
        if tasks.len() == tasks.capacity() {
            // Grow by a quarter, not by doubling: a slab only grows, so its spare room is memory
            // every parked task pays for (up to 24 bytes each after a doubling, 6 at most now).
            let more = tasks.len() / 4 + 16;
            tasks.reserve_exact(more);
        }
        Some(tasks.insert(waker) * n + shard)
    }

    pub(crate) fn unregister(&self, key: usize) {
        let n = self.shards.len();
        let waker = lock(&self.shards[key % n]).tasks.try_remove(key / n);
        // Dropped outside the lock: dropping a waker may schedule its task.
        drop(waker);
    }

    /// Refuses new registrations and returns the wakers of every task still registered.
    pub(crate) fn close(&self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let mut guard = lock(shard);
            guard.closed = true;
            wakers.extend(guard.tasks.drain());
        }
        wakers
    }

    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).tasks.len()).sum()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn shard_sizes(registry: &Registry) -> Vec<(usize, usize)> {
        registry.shards.iter().map(|s| lock(s)).map(|s| (s.tasks.len(), s.tasks.capacity())).collect()
    }

    #[test]
    fn one_thread_spreads_its_tasks_over_every_shard() {
        let registry = Registry::new(8);
        for _ in 0..800 {
            registry.register(3, Waker::noop().clone()).unwrap();
        }
        assert!(shard_sizes(&registry).iter().all(|&(len, _)| len == 100), "{:?}", shard_sizes(&registry));
    }

    #[test]
    fn a_shard_grows_by_a_quarter_not_by_doubling() {
        let registry = Registry::new(1);
        let keys: Vec<usize> =
            (0..70_000).map(|_| registry.register(0, Waker::noop().clone()).unwrap()).collect();
        let (len, capacity) = shard_sizes(&registry)[0];
        assert_eq!(len, 70_000);
        assert!(capacity <= len + len / 4 + 16, "capacity {capacity} for {len} tasks");
        for key in keys {
            registry.unregister(key);
        }
        assert_eq!(registry.len(), 0);
    }
}
