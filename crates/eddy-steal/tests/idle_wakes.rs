//! A worker busy with a chain of tasks (each spawning the next into its LIFO slot) does not wake
//! the idle worker every few links: the chain is its owner's to run, and each wake costs the busy
//! worker a syscall.

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
        // no time limit (see "LIFO slots" in the worker's docs); it looks, finds the slot empty
        // between two links and sleeps again, so a long chain wakes it now and then: 10-20 times
        // in a release build here, 150-200 in a debug one. A wake every few links (a task moved
        // behind an empty local queue, with a notification, after `MAX_LIFO_POLLS` in a row)
        // was 1,600-9,000 in release and over 20,000 in debug.
        let woken = wakes.load(Ordering::SeqCst) - started;
        assert!(woken <= LINKS / 200, "a chain of {LINKS} tasks woke idle workers {woken} times");
    });
}
