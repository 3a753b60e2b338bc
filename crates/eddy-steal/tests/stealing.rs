//! Work is stolen from a worker whose task blocks its thread, including the task it just woke
//! into its LIFO slot.

mod common;

use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;

use common::{wait_until, within};
use eddy_steal::Executor;
use eddy_task::{Park, ThreadPark};

/// Blocks the calling thread (a worker, when called from a task) until `released` is set.
fn block_thread_until(released: &AtomicBool) {
    while !released.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_task_woken_just_before_its_worker_blocks_runs_elsewhere() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let blocker = ex.spawn({
            let released = released.clone();
            async move {
                // The child lands in this worker's LIFO slot...
                let child = eddy_task::spawn({
                    let released = released.clone();
                    async move { released.store(true, Ordering::SeqCst) }
                });
                // ...and then this task blocks the worker's thread until the child has run,
                // which only another worker can make happen.
                block_thread_until(&released);
                child.await.unwrap();
            }
        });
        ex.run(blocker).unwrap();
    });
}

#[test]
fn a_task_that_yielded_just_before_its_worker_blocks_runs_elsewhere() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let yielder = ex.spawn({
            let released = released.clone();
            async move {
                // The blocker lands in this worker's LIFO slot, so it runs next...
                let blocker = eddy_task::spawn({
                    let released = released.clone();
                    async move { block_thread_until(&released) }
                });
                // ...while this task, yielding, waits in the worker's queue behind it: only
                // another worker can resume it.
                eddy_task::yield_now().await;
                released.store(true, Ordering::SeqCst);
                blocker.await.unwrap();
            }
        });
        ex.run(yielder).unwrap();
    });
}

#[test]
fn queued_tasks_behind_a_blocked_worker_are_stolen() {
    within(Duration::from_secs(60), || {
        let ex = Executor::builder().workers(2).build().unwrap();
        let released = Arc::new(AtomicBool::new(false));
        let blocker = ex.spawn({
            let released = released.clone();
            async move {
                let children: Vec<_> = (0..50).map(|i| eddy_task::spawn(async move { i })).collect();
                let last = eddy_task::spawn({
                    let released = released.clone();
                    async move { released.store(true, Ordering::SeqCst) }
                });
                block_thread_until(&released);
                let mut sum = 0;
                for child in children {
                    sum += child.await.unwrap();
                }
                last.await.unwrap();
                sum
            }
        });
        assert_eq!(ex.run(blocker).unwrap(), (0..50).sum::<i32>());
    });
}

/// What the [`DriverPark`]s of one executor share.
#[derive(Default)]
struct Driver {
    /// Wakers to wake from inside the next park, once `armed`.
    pending: Mutex<Vec<Waker>>,
    armed: AtomicBool,
    /// How many workers are inside `park`.
    parked: AtomicUsize,
    /// Each worker's unpark waker, in the order the workers started.
    unparkers: Mutex<Vec<Waker>>,
}

/// A park hook standing in for an I/O driver: once armed, the next park to return wakes the
/// pending wakers from inside `park`, on its worker's thread, as a reactor delivering events does.
struct DriverPark {
    thread: ThreadPark,
    driver: Arc<Driver>,
}

impl DriverPark {
    fn new(driver: Arc<Driver>) -> DriverPark {
        let thread = ThreadPark::new();
        driver.unparkers.lock().unwrap().push(thread.waker());
        DriverPark { thread, driver }
    }
}

impl Park for DriverPark {
    fn park(&mut self, timeout: Option<Duration>) {
        self.driver.parked.fetch_add(1, Ordering::SeqCst);
        self.thread.park(timeout);
        self.driver.parked.fetch_sub(1, Ordering::SeqCst);
        if self.driver.armed.swap(false, Ordering::SeqCst) {
            let pending = std::mem::take(&mut *self.driver.pending.lock().unwrap());
            for waker in pending {
                waker.wake();
            }
        }
    }

    fn waker(&self) -> Waker {
        self.thread.waker()
    }
}

#[test]
fn tasks_woken_by_a_workers_own_park_reach_the_other_workers() {
    within(Duration::from_secs(60), || {
        let driver = Arc::new(Driver::default());
        let ex = Executor::builder()
            .workers(2)
            .park_with({
                let driver = driver.clone();
                move || Box::new(DriverPark::new(driver.clone()))
            })
            .build()
            .unwrap();
        let arrived = Arc::new(AtomicUsize::new(0));
        let waiter = |driver: Arc<Driver>, arrived: Arc<AtomicUsize>| async move {
            // Wait for the "driver" to wake this task...
            let mut registered = false;
            poll_fn(|cx| {
                if registered {
                    return Poll::Ready(());
                }
                registered = true;
                driver.pending.lock().unwrap().push(cx.waker().clone());
                Poll::Pending
            })
            .await;
            // ...then block this worker's thread until the other task is running too, which
            // only the other worker can make happen.
            arrived.fetch_add(1, Ordering::SeqCst);
            wait_until(|| arrived.load(Ordering::SeqCst) == 2)
        };
        let a = ex.spawn(waiter(driver.clone(), arrived.clone()));
        let b = ex.spawn(waiter(driver.clone(), arrived.clone()));
        // Both tasks wait and both workers sleep with no time limit; then one worker's park wakes
        // both tasks into that worker's own queues.
        assert!(wait_until(
            || driver.pending.lock().unwrap().len() == 2 && driver.parked.load(Ordering::SeqCst) == 2
        ));
        driver.armed.store(true, Ordering::SeqCst);
        driver.unparkers.lock().unwrap()[0].wake_by_ref();
        let (a, b) = ex.run(async { (a.await.unwrap(), b.await.unwrap()) });
        assert!(a && b, "the two tasks did not run at the same time");
    });
}
