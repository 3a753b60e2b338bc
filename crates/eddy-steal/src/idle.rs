//! The sleep/wake protocol of idle workers, apart from any queue so that loom can check it.
//!
//! A worker going to sleep calls [`Idle::announce`], issues a `SeqCst` fence, checks every queue,
//! and then either calls [`Idle::cancel`] (work appeared) or parks. A producer, after pushing
//! work, calls [`Idle::notify`], which returns the index of the worker to unpark, if any. See
//! the `worker` module for why no wakeup is lost; `tests` below has the loom model.

use crate::sync::{fence, AtomicBool, AtomicIsize, AtomicU64, AtomicUsize, Ordering};

/// The workers that may be asleep, the one that announced itself last on top. A notification
/// wakes the worker that went to sleep last: its caches and CPU are the warmest, and the others
/// stay asleep. (Taken first-in first-out, a chain of tasks started from outside after each pause
/// ran on each worker in turn: on 2 workers, 1.6 CPU migrations per chain against 0.08.)
///
/// A lock-free stack of worker indices, each on it at most once (`Idle::on_stack`): `head` holds
/// a tag above the top index + 1 (0: empty), and `next[i]` the index + 1 of the entry below `i`.
/// Every change of `head` bumps the tag, so a pop that read `next` of an entry that was popped
/// and pushed again meanwhile fails its compare-exchange and retries (the ABA problem).
struct IdleStack {
    head: AtomicU64,
    next: Box<[AtomicUsize]>,
}

impl IdleStack {
    const INDEX_BITS: u32 = 32;
    const INDEX_MASK: u64 = (1 << Self::INDEX_BITS) - 1;

    fn new(workers: usize) -> IdleStack {
        assert!((workers as u64) < Self::INDEX_MASK, "too many workers for the idle stack");
        IdleStack { head: AtomicU64::new(0), next: (0..workers).map(|_| AtomicUsize::new(0)).collect() }
    }

    /// `head` with `top` (an index + 1, or 0) on top, one change after `head`.
    fn with_top(head: u64, top: usize) -> u64 {
        ((head >> Self::INDEX_BITS).wrapping_add(1) << Self::INDEX_BITS) | top as u64
    }

    fn push(&self, index: usize) {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            self.next[index].store((head & Self::INDEX_MASK) as usize, Ordering::Relaxed);
            let new = Self::with_top(head, index + 1);
            match self.head.compare_exchange_weak(head, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return,
                Err(current) => head = current,
            }
        }
    }

    fn pop(&self) -> Option<usize> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let top = (head & Self::INDEX_MASK) as usize;
            let index = top.checked_sub(1)?;
            let below = self.next[index].load(Ordering::Relaxed);
            let new = Self::with_top(head, below);
            match self.head.compare_exchange_weak(head, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Some(index),
                Err(current) => head = current,
            }
        }
    }
}

pub(crate) struct Idle {
    /// Indices of workers that may be asleep; each index is on it at most once.
    stack: IdleStack,
    sleeping: Box<[AtomicBool]>,
    on_stack: Box<[AtomicBool]>,
    /// How many workers are looking for work to steal.
    pub(crate) searching: AtomicUsize,
    /// How many workers a notification claimed that are not back at work yet (they count
    /// themselves out in [`Idle::cancel`]). A spawn from outside the workers leaves its task to
    /// them ([`Idle::notify_spawn`]). It dips below zero for a moment when a claimed worker wakes
    /// before its claimer has counted it in, and stays there after shutdown's wake-ups.
    claimed: AtomicIsize,
    /// How many workers are parked with no time limit. A task pushed into an empty LIFO slot
    /// wakes one of them only if there is one and no worker watches (see `worker`'s module docs).
    deep: AtomicUsize,
    /// How many workers are parked for a while only, and will look at the LIFO slots by
    /// themselves when the time is up (lookouts, and workers beside an occupied slot).
    watching: AtomicUsize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            stack: IdleStack::new(workers),
            sleeping: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            on_stack: (0..workers).map(|_| AtomicBool::new(false)).collect(),
            searching: AtomicUsize::new(0),
            claimed: AtomicIsize::new(0),
            deep: AtomicUsize::new(0),
            watching: AtomicUsize::new(0),
        }
    }

    /// Step 1 of going to sleep: worker `index` says it may sleep.
    pub(crate) fn announce(&self, index: usize) {
        self.sleeping[index].store(true, Ordering::SeqCst);
        // A compare-exchange rather than a swap, for loom's sake (see `wake_flag`).
        if self.on_stack[index].compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.stack.push(index);
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
    ///
    /// The worker it claims is `near`'s if that one sleeps (the worker that last ran on the
    /// spawner's CPU), else the one that went to sleep last.
    pub(crate) fn notify_spawn(&self, near: impl FnOnce() -> Option<usize>) -> Option<usize> {
        fence(Ordering::SeqCst);
        // Read-modify-writes for the reason given in `notify`: either this reads the count before
        // a claimed worker's decrement, which then makes the queued task visible to that worker's
        // look, or it reads it after, and does not leave the task to that worker.
        if self.searching.fetch_add(0, Ordering::SeqCst) != 0
            || self.claimed.fetch_add(0, Ordering::SeqCst) > 0
        {
            return None;
        }
        if let Some(index) = near() {
            // Claimed as `claim` would, by clearing its flag. Its entry stays on the stack, where
            // `claim` skips it while it is awake and takes it when it sleeps again (`announce`
            // pushes no second one meanwhile).
            if self.wake_flag(index) {
                self.claimed.fetch_add(1, Ordering::SeqCst);
                return Some(index);
            }
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

    /// A worker is about to park for a while only; it looks at every queue and LIFO slot, after
    /// a `SeqCst` fence, once the time is up.
    pub(crate) fn enter_watch(&self) {
        self.watching.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn leave_watch(&self) {
        self.watching.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether some worker is parked for a while only (a hint).
    pub(crate) fn watched(&self) -> bool {
        self.watching.load(Ordering::Relaxed) != 0
    }

    /// After pushing a task into an empty LIFO slot: claims a sleeping worker only if some
    /// worker is parked with no time limit, since it would not look at the slot by itself, and no
    /// worker watches. Either this sees that worker's `enter_deep`, or that worker's re-check sees
    /// the pushed task. And if this sees a watcher before its `leave_watch`, the watcher's look
    /// after that sees the task (the fences before this read and before that look are ordered
    /// through the read).
    ///
    /// `queued`: whether other tasks wait in the pusher's queue or the injector; then a watcher
    /// is woken too, to share them now rather than when its time is up. Asked only if some
    /// worker sleeps at all.
    pub(crate) fn notify_deep(&self, queued: impl FnOnce() -> bool) -> Option<usize> {
        fence(Ordering::SeqCst);
        let deep = self.deep.load(Ordering::SeqCst);
        let watching = self.watching.load(Ordering::SeqCst);
        if deep + watching == 0 || (watching != 0 && !queued()) {
            return None;
        }
        self.notify()
    }

    /// Claims a sleeping worker, skipping entries of workers that woke by themselves, and counts
    /// it in `claimed`.
    pub(crate) fn claim(&self) -> Option<usize> {
        while let Some(index) = self.stack.pop() {
            self.on_stack[index].store(false, Ordering::SeqCst);
            if self.wake_flag(index) {
                self.claimed.fetch_add(1, Ordering::SeqCst);
                return Some(index);
            }
        }
        None
    }
}

#[cfg(all(test, not(loom)))]
mod unit_tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Push(usize),
        Pop,
    }

    proptest! {
        /// Used as `Idle` uses it (an index pushed only while it is not on the stack), the stack
        /// behaves as a `Vec`: last in, first out, nothing lost or repeated.
        #[test]
        fn the_idle_stack_is_last_in_first_out(
            ops in proptest::collection::vec(
                prop_oneof![(0usize..6).prop_map(Op::Push), Just(Op::Pop)],
                0..200,
            ),
        ) {
            let stack = IdleStack::new(6);
            let mut model: Vec<usize> = Vec::new();
            for op in ops {
                match op {
                    Op::Push(index) if !model.contains(&index) => {
                        stack.push(index);
                        model.push(index);
                    }
                    Op::Push(_) => {}
                    Op::Pop => prop_assert_eq!(stack.pop(), model.pop()),
                }
            }
            while let Some(index) = model.pop() {
                prop_assert_eq!(stack.pop(), Some(index));
            }
            prop_assert_eq!(stack.pop(), None);
        }
    }

    #[test]
    fn a_notification_wakes_the_worker_that_announced_itself_last() {
        let idle = Idle::new(3);
        for index in [2, 0, 1] {
            idle.announce(index);
        }
        assert_eq!(idle.notify(), Some(1));
        assert_eq!(idle.notify(), Some(0));
        // Worker 2 woke by itself meanwhile: its entry is stale and skipped.
        assert!(!idle.cancel(2));
        assert_eq!(idle.notify(), None);
    }

    #[test]
    fn a_spawn_from_outside_claims_the_worker_near_the_spawner_first() {
        let idle = Idle::new(3);
        for index in [1, 2, 0] {
            idle.announce(index);
        }
        assert_eq!(idle.notify_spawn(|| Some(1)), Some(1), "worker 1, not the last to sleep");
        assert!(idle.cancel(1));
        assert_eq!(idle.notify_spawn(|| Some(1)), Some(0), "worker 1 is awake: the last to sleep");
        assert!(idle.cancel(0));
        // Worker 1 sleeps again with its old entry still on the stack, under worker 2's.
        idle.announce(1);
        assert_eq!(idle.notify_spawn(|| None), Some(2));
        assert!(idle.cancel(2));
        assert_eq!(idle.notify_spawn(|| None), Some(1), "its entry was kept");
        assert!(idle.cancel(1));
        assert_eq!(idle.notify_spawn(|| None), None);
    }

    #[test]
    fn a_push_into_an_empty_lifo_slot_is_left_to_a_watching_worker() {
        let idle = Idle::new(2);
        idle.announce(0);
        idle.enter_deep();
        idle.announce(1);
        idle.enter_watch();
        assert_eq!(idle.notify_deep(|| false), None, "worker 1 looks by itself");
        assert_eq!(idle.notify_deep(|| true), Some(1), "worker 1 is woken to share queued tasks");
        idle.announce(1);
        idle.leave_watch();
        assert_eq!(idle.notify_deep(|| false), Some(1), "nobody watches: a sleeper is woken");
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
        claimed_worker_takes_two_spawns(|| None);
    }

    /// The same, with the sleeper claimed as the worker near the spawner: by its flag, its entry
    /// left on the stack.
    #[test]
    fn a_worker_claimed_near_the_spawner_takes_the_spawns_left_to_it() {
        claimed_worker_takes_two_spawns(|| Some(0));
    }

    fn claimed_worker_takes_two_spawns(near: fn() -> Option<usize>) {
        loom::model(move || {
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
                if idle.notify_spawn(near) == Some(0) {
                    sleeper.thread().unpark();
                }
            }
            sleeper.join().unwrap();
            assert_eq!(idle.claimed.load(Ordering::SeqCst), 0, "the claimed count is balanced");
        });
    }

    /// The local queue's head and tail. concurrent-queue reads and changes both with `SeqCst`,
    /// and the argument rests on `SeqCst`'s single total order over those loads too, which loom
    /// (0.7) does not model (it treats a `SeqCst` load as `Acquire`): the loads here are
    /// read-modify-writes, which read the latest value as a load in that order does.
    struct Queue {
        head: AtomicUsize,
        tail: AtomicUsize,
    }

    impl Queue {
        fn is_empty(&self) -> bool {
            let head = self.head.fetch_add(0, Ordering::SeqCst);
            head == self.tail.fetch_add(0, Ordering::SeqCst)
        }

        fn len(&self) -> usize {
            let tail = self.tail.fetch_add(0, Ordering::SeqCst);
            tail - self.head.fetch_add(0, Ordering::SeqCst)
        }
    }

    /// A task that yields is pushed into its worker's local queue, which holds one task that a
    /// thief takes meanwhile, while another worker goes to sleep with no time limit; the owner
    /// then blocks. The owner tells deep sleepers only if its queue holds one task after the push
    /// (`Shared::schedule_local`): the sleeper sees the task or is woken for it. With the length
    /// read before the push (`CHECK_BEFORE`) the model deadlocks: the thief empties the queue
    /// between the read and the push, and the sleeper looks in between.
    #[test]
    fn a_task_that_yielded_behind_a_task_a_thief_takes_reaches_a_deep_sleeper() {
        const CHECK_BEFORE: bool = false;
        loom::model(|| {
            let idle = Arc::new(Idle::new(1));
            let queue = Arc::new(Queue { head: AtomicUsize::new(0), tail: AtomicUsize::new(1) });

            let thief = {
                let queue = queue.clone();
                thread::spawn(move || {
                    let _ = queue.head.compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
                })
            };
            // The sleeper stops at the first task it sees queued: awake, it would steal it.
            let sleeper = {
                let (idle, queue) = (idle.clone(), queue.clone());
                thread::spawn(move || loop {
                    if !queue.is_empty() {
                        return;
                    }
                    idle.announce(0);
                    idle.enter_deep();
                    if !queue.is_empty() {
                        idle.leave_deep();
                        let _ = idle.cancel(0);
                        return;
                    }
                    thread::park();
                    idle.leave_deep();
                    let _ = idle.cancel(0);
                })
            };

            let before = queue.len();
            queue.tail.fetch_add(1, Ordering::SeqCst);
            let one = if CHECK_BEFORE { before == 0 } else { queue.len() <= 1 };
            if one && idle.notify_deep(|| false) == Some(0) {
                sleeper.thread().unpark();
            }
            thief.join().unwrap();
            sleeper.join().unwrap();
        });
    }

    /// Worker `index` sleeping with no time limit, as `Worker::sleep` does when no LIFO slot is
    /// occupied, until it sees the task in `lifo` (true) or `stop` is set (false).
    fn sleep_deep_until_seen(idle: &Idle, index: usize, lifo: &AtomicUsize, stop: &AtomicUsize) -> bool {
        loop {
            if lifo.load(Ordering::SeqCst) == 1 {
                return true;
            }
            if stop.load(Ordering::SeqCst) == 1 {
                return false;
            }
            idle.announce(index);
            idle.enter_deep();
            if lifo.load(Ordering::SeqCst) == 1 {
                idle.leave_deep();
                let _ = idle.cancel(index);
                return true;
            }
            thread::park();
            idle.leave_deep();
            let _ = idle.cancel(index);
        }
    }

    #[test]
    fn the_idle_stack_survives_a_pop_overtaken_by_a_pop_pop_push() {
        loom::model(|| {
            let stack = Arc::new(IdleStack::new(2));
            stack.push(0);
            stack.push(1);
            // This thread's pop reads 1 on top and 0 below it...
            let popper = {
                let stack = stack.clone();
                thread::spawn(move || stack.pop())
            };
            // ...while these pops and push may leave 1 on top with nothing below: a stale
            // compare-exchange would then put 0, which this thread holds, back on top.
            let first = stack.pop();
            let second = stack.pop();
            if let Some(first) = first {
                stack.push(first);
            }
            let mut held: Vec<usize> = [popper.join().unwrap(), second].into_iter().flatten().collect();
            while let Some(index) = stack.pop() {
                held.push(index);
            }
            held.sort_unstable();
            assert_eq!(held, [0, 1], "every index exactly once");
        });
    }

    #[test]
    fn a_task_pushed_into_a_lifo_slot_reaches_a_watcher_or_a_deep_sleeper() {
        loom::model(|| {
            let idle = Arc::new(Idle::new(2));
            // The task in a third worker's LIFO slot, which that worker then never runs.
            let lifo = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicUsize::new(0));

            // Worker 0 watches: parked for a while only, then it looks (the time running out is
            // not modelled: the park simply ends; nor are its `sleeping` flag and idle entry,
            // which only let a notification cut the park short).
            let watcher = {
                let (idle, lifo) = (idle.clone(), lifo.clone());
                thread::spawn(move || {
                    idle.enter_watch();
                    idle.leave_watch();
                    // `Worker::sleep`'s look, after the fence `announce` issues.
                    fence(Ordering::SeqCst);
                    lifo.load(Ordering::SeqCst) == 1
                })
            };
            // Worker 1 sleeps with no time limit.
            let sleeper = {
                let (idle, lifo, stop) = (idle.clone(), lifo.clone(), stop.clone());
                thread::spawn(move || sleep_deep_until_seen(&idle, 1, &lifo, &stop))
            };

            lifo.store(1, Ordering::SeqCst);
            if idle.notify_deep(|| false) == Some(1) {
                sleeper.thread().unpark();
            }
            // The watcher saw the task, or the sleeper was woken for it (or a lost wakeup leaves
            // the sleeper parked, and loom reports the deadlock).
            if watcher.join().unwrap() {
                stop.store(1, Ordering::SeqCst);
                sleeper.thread().unpark();
            }
            sleeper.join().unwrap();
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
                thread::spawn(move || sleep_deep_until_seen(&idle, 0, &lifo, &AtomicUsize::new(0)))
            };

            lifo.store(1, Ordering::SeqCst);
            if idle.notify_deep(|| false) == Some(0) {
                sleeper.thread().unpark();
            }
            sleeper.join().unwrap();
        });
    }
}
