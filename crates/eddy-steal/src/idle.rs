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
    /// How many workers are looking for work: searching workers, and workers a notification
    /// claimed (woken, or about to wake), which search as soon as they are up. While it is above
    /// zero, producers leave new work to them. It can dip below zero for a moment: a claimed
    /// worker may wake and count itself out before its claimer has counted it in.
    pub(crate) searching: AtomicIsize,
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
            searching: AtomicIsize::new(0),
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

    /// Worker `index` is awake again (it found work, or it woke up). Returns whether a
    /// notification claimed it meanwhile: then it counts as searching (`claim` counted it in),
    /// and must search, and count itself out, like any searcher.
    #[must_use]
    pub(crate) fn cancel(&self, index: usize) -> bool {
        !self.wake_flag(index)
    }

    /// Wakes worker `index` for shutdown, counting it as claimed if it was asleep, so that the
    /// count of searchers stays balanced.
    pub(crate) fn claim_for_shutdown(&self, index: usize) {
        if self.wake_flag(index) {
            self.searching.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Clears worker `index`'s `sleeping` flag; true if this call cleared it. A compare-exchange,
    /// not a swap: loom (0.7) lets a plain store land between the read and the write of a
    /// `swap`, so that two threads could each see the flag set once after a single `announce`
    /// (tokio-rs/loom#254); its compare-exchange is modelled atomically.
    fn wake_flag(&self, index: usize) -> bool {
        self.sleeping[index].compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// After queueing work: unless a worker is searching or claimed (it will find the work),
    /// claims a sleeping worker and returns its index, for the caller to unpark. A producer that
    /// finds the count above zero thus leaves its work to the worker an earlier notification
    /// woke, instead of waking one more: a thread spawning many tasks from outside the workers
    /// wakes a sleeper once, not once per spawn until every sleeper is up.
    pub(crate) fn notify(&self) -> Option<usize> {
        fence(Ordering::SeqCst);
        // A read-modify-write, not a load: it reads the latest count, so it synchronizes with a
        // searcher's decrement whichever comes first (a plain load here is the store-buffering
        // pattern that only `SeqCst`'s total order makes safe, and loom cannot check that).
        if self.searching.fetch_add(0, Ordering::SeqCst) > 0 {
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

    /// Claims a sleeping worker, skipping entries of workers that woke by themselves, and
    /// counts it as searching.
    pub(crate) fn claim(&self) -> Option<usize> {
        while let Ok(index) = self.queue.pop() {
            self.on_queue[index].store(false, Ordering::SeqCst);
            if self.wake_flag(index) {
                self.searching.fetch_add(1, Ordering::SeqCst);
                return Some(index);
            }
        }
        None
    }
}

#[cfg(all(test, loom))]
mod tests {
    //! Models: workers go to sleep while producers queue work. Loom explores every interleaving;
    //! it fails on a deadlock (a worker parked forever with work queued), so a test passing
    //! means no wakeup is lost. The workers here do what `Worker::sleep` and the worker loop do:
    //! announce, stop searching, fence, check, park; when they wake, a worker that `cancel`
    //! reports claimed searches (and so counts itself out when it gives up).

    use loom::sync::atomic::AtomicUsize;
    use loom::sync::Arc;
    use loom::thread;

    use super::*;

    /// A worker that takes units of `work` until it has taken `goal`, sleeping when there are
    /// none, as the worker loop does.
    fn worker(idle: Arc<Idle>, index: usize, work: Arc<AtomicUsize>, goal: usize, searching: bool) {
        let mut taken = 0;
        let mut searching = searching;
        loop {
            // Take a unit if there is one (a queue pop).
            let available = work.load(Ordering::SeqCst);
            if available > taken {
                taken += 1;
                if searching {
                    // Found work: stop searching; the last searcher notifies for the rest.
                    searching = false;
                    if idle.searching.fetch_sub(1, Ordering::SeqCst) == 1 {
                        let _ = idle.notify();
                    }
                }
                if taken == goal {
                    break;
                }
                continue;
            }
            idle.announce(index);
            if searching {
                searching = false;
                idle.searching.fetch_sub(1, Ordering::SeqCst);
            }
            fence(Ordering::SeqCst);
            if work.load(Ordering::SeqCst) > taken {
                searching = idle.cancel(index);
                continue;
            }
            thread::park();
            searching = idle.cancel(index);
        }
        if searching {
            idle.searching.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_worker_going_to_sleep_never_misses_work() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let work = Arc::new(AtomicUsize::new(0));
            let sleeper = {
                let (idle, work) = (idle.clone(), work.clone());
                thread::spawn(move || worker(idle, 0, work, 1, false))
            };
            work.store(1, Ordering::SeqCst);
            if idle.notify() == Some(0) {
                sleeper.thread().unpark();
            }
            sleeper.join().unwrap();
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
                thread::spawn(move || worker(idle, 1, work, 1, true))
            };
            work.store(1, Ordering::SeqCst);
            if idle.notify() == Some(1) {
                searcher.thread().unpark();
            }
            searcher.join().unwrap();
        });
    }

    #[test]
    fn a_claimed_worker_takes_the_work_of_producers_that_left_it_to_it() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let work = Arc::new(AtomicUsize::new(0));
            let sleeper = {
                let (idle, work) = (idle.clone(), work.clone());
                thread::spawn(move || worker(idle, 0, work, 2, false))
            };
            // Two units, each followed by a notification: the second may find the sleeper
            // claimed by the first (not yet counted out) and leave its unit to it.
            for _ in 0..2 {
                work.fetch_add(1, Ordering::SeqCst);
                if idle.notify() == Some(0) {
                    sleeper.thread().unpark();
                }
            }
            sleeper.join().unwrap();
            assert_eq!(idle.searching.load(Ordering::SeqCst), 0, "the searcher count is balanced");
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
