//! The pool grows under a burst, shrinks back after the keep-alive, turns panics into errors,
//! and shuts down without waiting for a closure that never returns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use eddy_blocking::Pool;
use futures_lite::future::block_on;

/// Waits (up to 10 s) until `cond` holds.
fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    cond()
}

#[test]
fn grows_under_a_burst_and_shrinks_back() {
    let pool = Pool::builder().max_threads(8).keep_alive(Duration::from_millis(100)).build();
    assert_eq!(pool.threads(), 0, "threads start on demand");
    // Eight closures that can only finish together need eight threads.
    let barrier = Arc::new(Barrier::new(8));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let barrier = barrier.clone();
            pool.spawn(move || {
                barrier.wait();
                i
            })
        })
        .collect();
    let results: Vec<_> = tasks.into_iter().map(|t| block_on(t).unwrap()).collect();
    assert_eq!(results, (0..8).collect::<Vec<_>>());
    assert_eq!(pool.threads(), 8);
    assert!(eventually(|| pool.threads() == 0), "idle threads did not exit: {} left", pool.threads());
    // And it grows again.
    assert_eq!(block_on(pool.spawn(|| 1)).unwrap(), 1);
}

#[test]
fn never_exceeds_its_limit() {
    let pool = Pool::builder().max_threads(3).build();
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (running, peak) = (running.clone(), peak.clone());
            pool.spawn(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for task in tasks {
        block_on(task).unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= 3);
    assert!(pool.threads() <= 3);
}

#[test]
fn a_panic_in_the_closure_is_a_join_error() {
    let pool = Pool::builder().build();
    let err = block_on(pool.spawn(|| -> u32 { panic!("blocking boom") })).unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("blocking boom"));
    assert_eq!(block_on(pool.spawn(|| 2)).unwrap(), 2, "the thread kept serving");
}

#[test]
fn a_dropped_task_that_has_not_started_never_runs() {
    let pool = Pool::builder().max_threads(1).build();
    let gate = Arc::new(Barrier::new(2));
    let blocker = pool.spawn({
        let gate = gate.clone();
        move || {
            gate.wait();
        }
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let queued = pool.spawn({
        let ran = ran.clone();
        move || {
            ran.fetch_add(1, Ordering::SeqCst);
        }
    });
    drop(queued); // still waiting behind the blocker
    gate.wait();
    block_on(blocker).unwrap();
    block_on(pool.spawn(|| ())).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn shutdown_does_not_wait_for_a_closure_that_blocks_forever() {
    let pool = Pool::builder().build();
    let started = Arc::new(Barrier::new(2));
    let stuck = pool.spawn({
        let started = started.clone();
        move || {
            started.wait();
            loop {
                std::thread::park();
            }
        }
    });
    started.wait();
    let begun = Instant::now();
    assert_eq!(pool.shutdown(), 1, "the stuck closure is reported");
    assert!(begun.elapsed() < Duration::from_secs(5));
    stuck.detach();
    let late = block_on(pool.spawn(|| 3)).unwrap_err();
    assert!(late.is_cancelled(), "spawning after shutdown returns a cancelled task");
}

#[test]
fn a_finished_closure_is_not_reported_as_running_at_shutdown() {
    // The awaiter is woken as the closure's result is stored; a shutdown right after must not
    // count the closure as still running.
    for _ in 0..200 {
        let pool = Pool::builder().build();
        block_on(pool.spawn(|| ())).unwrap();
        assert_eq!(pool.shutdown(), 0);
    }
}
