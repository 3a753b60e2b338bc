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

    /// Records a live task in the shard `hint` selects; `None` once closed.
    pub(crate) fn register(&self, hint: usize, waker: Waker) -> Option<usize> {
        let n = self.shards.len();
        let shard = hint % n;
        let mut guard = lock(&self.shards[shard]);
        if guard.closed {
            return None;
        }
        Some(guard.tasks.insert(waker) * n + shard)
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
