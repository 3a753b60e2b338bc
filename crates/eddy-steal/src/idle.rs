//! The sleep/wake protocol of idle workers, apart from any queue so that loom can check it.
//!
//! A worker going to sleep calls [`Idle::announce`], issues a `SeqCst` fence, checks every queue,
//! and then either calls [`Idle::cancel`] (work appeared) or parks. A producer, after pushing
//! work, calls [`Idle::notify`], which returns the index of the worker to unpark, if any. See
//! the `worker` module for why no wakeup is lost; `tests` below has the loom model.

use crate::sync::{fence, AtomicBool, AtomicIsize, AtomicUsize, Ordering};

/// The list of workers that may be asleep: a `concurrent-queue` normally. Under loom, a locked
/// `VecDeque`: the protocol only needs a linearizable queue, and `concurrent-queue` decides
/// "empty" with a `SeqCst` fence between relaxed loads, which loom (modelling `SeqCst` as
/// acquire/release) reports as a deadlock it cannot rule out. Its own loom tests cover it.
#[cfg(not(loom))]
type IdleQueue = concurrent_queue::ConcurrentQueue<usize>;

#[cfg(loom)]
struct IdleQueue(loom::sync::Mutex<std::collections::VecDeque<usize>>);

#[cfg(loom)]
impl IdleQueue {
    fn bounded(_capacity: usize) -> IdleQueue {
        IdleQueue(loom::sync::Mutex::new(std::collections::VecDeque::new()))
    }

    fn push(&self, index: usize) -> Result<(), ()> {
        self.0.lock().unwrap().push_back(index);
        Ok(())
    }

    fn pop(&self) -> Result<usize, ()> {
        self.0.lock().unwrap().pop_front().ok_or(())
    }
}

pub(crate) struct Idle {
    /// Indices of workers that may be asleep; each index is on it at most once.
    queue: IdleQueue,
    sleeping: Box<[AtomicBool]>,
    on_queue: Box<[AtomicBool]>,
    /// How many workers are looking for work to steal.
    pub(crate) searching: AtomicUsize,
    /// How many workers a notification claimed that are not back at work yet (they count
    /// themselves out in [`Idle::cancel`]). A spawn from outside the workers leaves its task to
    /// them ([`Idle::notify_spawn`]). It dips below zero for a moment when a claimed worker wakes
    /// before its claimer has counted it in, and stays there after shutdown's wake-ups.
    claimed: AtomicIsize,
    /// How many workers are parked with no time limit. A task pushed into an empty LIFO slot
    /// wakes one of them only if there is one (see `worker`'s module docs).
    deep: AtomicUsize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            queue: IdleQueue::bounded(workers.max(1)),
            sleeping: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            on_queue: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            searching: AtomicUsize::new(0),
            claimed: AtomicIsize::new(0),
            deep: AtomicUsize::new(0),
        }
    }

    /// Step 1 of going to sleep: worker `index` says it may sleep.
    pub(crate) fn announce(&self, index: usize) {
        self.sleeping[index].store(true, Ordering::SeqCst);
        // A compare-exchange rather than a swap, for loom's sake (see `wake_flag`).
        if self.on_queue[index].compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            // Bounded by the number of workers, and each index is on it at most once.
            let _ = self.queue.push(index);
        }
        fence(Ordering::SeqCst);
    }

    /// Worker `index` is awake again (it found work, or it woke up), and about to look at every
    /// queue. Returns whether a notification claimed it meanwhile; it then counts itself out of
    /// `claimed`.
    #[must_use]
    pub(crate) fn cancel(&self, index: usize) -> bool {
        let claimed = !self.wake_flag(index);
        if claimed {
            self.claimed.fetch_sub(1, Ordering::SeqCst);
        }
        claimed
    }

    /// Wakes worker `index` for shutdown (its count in `claimed` no longer matters).
    pub(crate) fn wake_for_shutdown(&self, index: usize) {
        self.sleeping[index].store(false, Ordering::SeqCst);
    }

    /// Clears worker `index`'s `sleeping` flag; true if this call cleared it. A compare-exchange,
    /// not a swap: loom (0.7) lets a plain store land between the read and the write of a `swap`
    /// (tokio-rs/loom#254), and models its compare-exchange atomically.
    fn wake_flag(&self, index: usize) -> bool {
        self.sleeping[index].compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// After queueing work: unless a worker is searching (it will find the work), claims a
    /// sleeping worker and returns its index, for the caller to unpark.
    pub(crate) fn notify(&self) -> Option<usize> {
        fence(Ordering::SeqCst);
        // A read-modify-write, not a load: it reads the latest count, so it synchronizes with a
        // searcher's decrement whichever comes first (a plain load here is the store-buffering
        // pattern that only `SeqCst`'s total order makes safe, and loom cannot check that).
        if self.searching.fetch_add(0, Ordering::SeqCst) != 0 {
            return None;
        }
        self.claim()
    }

    /// [`notify`](Self::notify) for a task spawned by a thread that is not a worker: it also
    /// leaves the task to a worker that an earlier notification claimed and that is not back at
    /// work yet. That worker looks at every queue once it is, and wakes another if more than one
    /// task waits (see the `worker` module). A thread spawning many tasks from outside thus wakes
    /// one sleeper, instead of one per spawn until the first is up; a wake from outside (a task
    /// that waited) keeps a notification of its own.
    pub(crate) fn notify_spawn(&self) -> Option<usize> {
        fence(Ordering::SeqCst);
        // Read-modify-writes for the reason given in `notify`: either this reads the count before
        // a claimed worker's decrement, which then makes the queued task visible to that worker's
        // look, or it reads it after, and does not leave the task to that worker.
        if self.searching.fetch_add(0, Ordering::SeqCst) != 0
            || self.claimed.fetch_add(0, Ordering::SeqCst) > 0
        {
            return None;
        }
        self.claim()
    }

    /// A worker is about to park with no time limit; it re-checks the queues after this.
    pub(crate) fn enter_deep(&self) {
        self.deep.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    pub(crate) fn leave_deep(&self) {
        self.deep.fetch_sub(1, Ordering::SeqCst);
    }

    /// After pushing a task into an empty LIFO slot: claims a sleeping worker only if some
    /// worker is parked with no time limit, since it would not look at the slot by itself. Either
    /// this sees that worker's `enter_deep`, or that worker's re-check sees the pushed task.
    pub(crate) fn notify_deep(&self) -> Option<usize> {
        fence(Ordering::SeqCst);
        if self.deep.load(Ordering::SeqCst) == 0 {
            return None;
        }
        self.notify()
    }

    /// Claims a sleeping worker, skipping entries of workers that woke by themselves, and counts
    /// it in `claimed`.
    pub(crate) fn claim(&self) -> Option<usize> {
        while let Ok(index) = self.queue.pop() {
            self.on_queue[index].store(false, Ordering::SeqCst);
            if self.wake_flag(index) {
                self.claimed.fetch_add(1, Ordering::SeqCst);
                return Some(index);
            }
        }
        None
    }
}

#[cfg(all(test, loom))]
mod tests {
    //! Model: one worker goes to sleep while a producer queues one unit of work. Loom explores
    //! every interleaving; it fails on a deadlock (the worker parked forever with the work
    //! queued), so the test passing means no wakeup is lost.

    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    #[test]
    fn a_worker_going_to_sleep_never_misses_work() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let work = Arc::new(AtomicUsize::new(0));

            let worker = {
                let (idle, work) = (idle.clone(), work.clone());
                thread::spawn(move || loop {
                    if work.load(Ordering::SeqCst) == 1 {
                        return;
                    }
                    idle.announce(0);
                    if work.load(Ordering::SeqCst) == 1 {
                        let _ = idle.cancel(0);
                        return;
                    }
                    thread::park();
                    let _ = idle.cancel(0);
                })
            };

            work.store(1, Ordering::SeqCst);
            if idle.notify() == Some(0) {
                worker.thread().unpark();
            }
            worker.join().unwrap();
        });
    }

    #[test]
    fn a_searching_worker_defers_the_wakeup_to_itself() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2));
            let work = Arc::new(AtomicUsize::new(0));
            // Worker 1 is searching: producers leave the work to it.
            idle.searching.store(1, Ordering::SeqCst);

            let searcher = {
                let (idle, work) = (idle.clone(), work.clone());
                thread::spawn(move || loop {
                    if work.load(Ordering::SeqCst) == 1 {
                        return;
                    }
                    // Gives up searching and goes to sleep, as `Worker::sleep` does.
                    idle.announce(1);
                    idle.searching.fetch_sub(1, Ordering::SeqCst);
                    fence(Ordering::SeqCst);
                    if work.load(Ordering::SeqCst) == 1 {
                        let _ = idle.cancel(1);
                        continue;
                    }
                    thread::park();
                    let _ = idle.cancel(1);
                })
            };

            work.store(1, Ordering::SeqCst);
            if idle.notify() == Some(1) {
                searcher.thread().unpark();
            }
            searcher.join().unwrap();
        });
    }

    #[test]
    fn a_claimed_worker_takes_the_spawns_left_to_it() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let work = Arc::new(AtomicUsize::new(0));
            let sleeper = {
                let (idle, work) = (idle.clone(), work.clone());
                thread::spawn(move || {
                    let mut taken = 0;
                    while taken < 2 {
                        if work.load(Ordering::SeqCst) > taken {
                            taken += 1;
                            continue;
                        }
                        idle.announce(0);
                        if work.load(Ordering::SeqCst) > taken {
                            let _ = idle.cancel(0);
                            continue;
                        }
                        thread::park();
                        let _ = idle.cancel(0);
                    }
                })
            };
            // Two spawns from outside, each followed by its notification: the second may find the
            // sleeper claimed by the first and not yet counted out, and leave its task to it.
            for _ in 0..2 {
                work.fetch_add(1, Ordering::SeqCst);
                if idle.notify_spawn() == Some(0) {
                    sleeper.thread().unpark();
                }
            }
            sleeper.join().unwrap();
            assert_eq!(idle.claimed.load(Ordering::SeqCst), 0, "the claimed count is balanced");
        });
    }

    #[test]
    fn a_task_pushed_into_a_lifo_slot_reaches_a_deep_sleeper() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            // The task in the other worker's LIFO slot, which that worker then never runs.
            let lifo = Arc::new(AtomicUsize::new(0));

            let sleeper = {
                let (idle, lifo) = (idle.clone(), lifo.clone());
                thread::spawn(move || loop {
                    if lifo.load(Ordering::SeqCst) == 1 {
                        return;
                    }
                    // As `Worker::sleep` does when no LIFO slot is occupied.
                    idle.announce(0);
                    idle.enter_deep();
                    if lifo.load(Ordering::SeqCst) == 1 {
                        idle.leave_deep();
                        let _ = idle.cancel(0);
                        return;
                    }
                    thread::park();
                    idle.leave_deep();
                    let _ = idle.cancel(0);
                })
            };

            lifo.store(1, Ordering::SeqCst);
            if idle.notify_deep() == Some(0) {
                sleeper.thread().unpark();
            }
            sleeper.join().unwrap();
        });
    }
}
