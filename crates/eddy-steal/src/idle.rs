//! The sleep/wake protocol of idle workers, apart from any queue so that loom can check it.
//!
//! A worker going to sleep calls [`Idle::announce`], issues a `SeqCst` fence, checks every queue,
//! and then either calls [`Idle::cancel`] (work appeared) or parks. A producer, after pushing
//! work, calls [`Idle::notify`], which returns the index of the worker to unpark, if any. See
//! the `worker` module for why no wakeup is lost; `tests` below has the loom model.

use crate::sync::{fence, AtomicBool, AtomicUsize, Ordering};

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
            deep: AtomicUsize::new(0),
        }
    }

    /// Step 1 of going to sleep: worker `index` says it may sleep.
    pub(crate) fn announce(&self, index: usize) {
        self.sleeping[index].store(true, Ordering::SeqCst);
        if !self.on_queue[index].swap(true, Ordering::SeqCst) {
            // Bounded by the number of workers, and each index is on it at most once.
            let _ = self.queue.push(index);
        }
        fence(Ordering::SeqCst);
    }

    /// Worker `index` is awake again (it found work, or it woke up).
    pub(crate) fn cancel(&self, index: usize) {
        self.sleeping[index].store(false, Ordering::SeqCst);
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

    /// Claims a sleeping worker, skipping entries of workers that woke by themselves.
    pub(crate) fn claim(&self) -> Option<usize> {
        while let Ok(index) = self.queue.pop() {
            self.on_queue[index].store(false, Ordering::SeqCst);
            if self.sleeping[index].swap(false, Ordering::SeqCst) {
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
                        idle.cancel(0);
                        return;
                    }
                    thread::park();
                    idle.cancel(0);
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
                        idle.cancel(1);
                        continue;
                    }
                    thread::park();
                    idle.cancel(1);
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
                        idle.cancel(0);
                        return;
                    }
                    thread::park();
                    idle.leave_deep();
                    idle.cancel(0);
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
