//! A worker busy with a chain of tasks (each spawning the next into its LIFO slot) does not keep
//! waking the idle worker: the chain is its owner's to run, and each wake costs the busy worker a
//! syscall. And a notification wakes the worker that went to sleep last.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};
use std::time::Duration;

use common::within;
use eddy_steal::Executor;
use eddy_task::{Park, ThreadPark};

/// A thread park whose waker counts the times a worker is woken through it.
struct CountingPark {
    thread: ThreadPark,
    wakes: Arc<AtomicUsize>,
}

struct CountingWaker {
    inner: Waker,
    wakes: Arc<AtomicUsize>,
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.inner.wake_by_ref();
    }
}

impl Park for CountingPark {
    fn park(&mut self, timeout: Option<Duration>) {
        self.thread.park(timeout);
    }

    fn waker(&self) -> Waker {
        Waker::from(Arc::new(CountingWaker { inner: self.thread.waker(), wakes: self.wakes.clone() }))
    }
}

/// Spawns the rest of a chain of `n` tasks, each spawning the next from inside its poll.
fn chain(n: usize, done: Arc<AtomicUsize>) {
    if n == 0 {
        done.store(1, Ordering::SeqCst);
    } else {
        eddy_task::spawn(async move { chain(n - 1, done) }).detach();
    }
}

#[test]
fn a_long_chain_of_tasks_wakes_the_idle_worker_only_a_few_times() {
    within(Duration::from_secs(120), || {
        const LINKS: usize = 200_000;
        let wakes = Arc::new(AtomicUsize::new(0));
        let ex = Executor::builder()
            .workers(2)
            .park_with({
                let wakes = wakes.clone();
                move || Box::new(CountingPark { thread: ThreadPark::new(), wakes: wakes.clone() })
            })
            .build()
            .unwrap();
        let done = Arc::new(AtomicUsize::new(0));
        let started = wakes.load(Ordering::SeqCst);
        ex.run({
            let done = done.clone();
            async move {
                eddy_task::spawn(async move { chain(LINKS, done) }).await.unwrap();
            }
        });
        while done.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        // A push into the busy worker's empty LIFO slot wakes the idle worker if it sleeps with
        // no time limit and no worker is a lookout (see "LIFO slots" in the worker's docs). Woken
        // for nothing, it becomes the lookout for as long as the chain runs: 0-1 wakes in all,
        // release or debug. Before the lookout, it slept with no time limit again after each
        // such wake: 10-20 wakes in a release build here, 150-200 in a debug one. A wake every
        // few links (a task moved behind an empty local queue, with a notification, after
        // `MAX_LIFO_POLLS` in a row) was 1,600-9,000 in release and over 20,000 in debug.
        let woken = wakes.load(Ordering::SeqCst) - started;
        assert!(woken <= 5, "a chain of {LINKS} tasks woke idle workers {woken} times");
    });
}

/// Tasks spawned from outside one at a time, with pauses between them, do not run on each
/// worker in turn: a spawn claims the sleeping worker that last ran on the spawner's CPU, or else
/// the one that went to sleep last (the warmest either way). Which of the two that is depends on
/// where the kernel runs the threads, so this counts changes of worker, not which one runs: in
/// turn, every task after the first would change. (The claim's order itself is checked in
/// `idle`'s unit tests.)
#[test]
fn spawns_from_outside_do_not_go_to_each_worker_in_turn() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let mut ran_on = Vec::new();
        for _ in 0..10 {
            let task = ex.spawn(async { std::thread::current().id() });
            ran_on.push(ex.run(task).unwrap());
            // Long enough for the worker to be back asleep, with no time limit.
            std::thread::sleep(Duration::from_millis(20));
        }
        // The first task may find either worker still starting up.
        let changes = ran_on[1..].windows(2).filter(|pair| pair[0] != pair[1]).count();
        assert!(changes <= 4, "tasks ran on {ran_on:?}");
    });
}
