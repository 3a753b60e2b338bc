//! The executor works under a foreign `block_on`, and wakes from other threads reach it.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use eddy_local::LocalExecutor;
use futures_lite::future;

/// A one-shot channel that works across threads, built only from std, so the test depends on
/// nothing eddy provides.
fn oneshot<T: Send + 'static>() -> (mpsc::Sender<T>, impl std::future::Future<Output = T>) {
    let (tx, rx) = mpsc::channel::<T>();
    let (waker_tx, waker_rx) = mpsc::channel::<std::task::Waker>();
    let (value_tx, value_rx) = mpsc::channel::<T>();
    thread::spawn(move || {
        let waker = waker_rx.recv().unwrap();
        let value = rx.recv().unwrap();
        value_tx.send(value).unwrap();
        waker.wake();
    });
    let mut registered = false;
    let fut = future::poll_fn(move |cx| {
        if let Ok(v) = value_rx.try_recv() {
            return std::task::Poll::Ready(v);
        }
        if !registered {
            registered = true;
            waker_tx.send(cx.waker().clone()).unwrap();
        }
        std::task::Poll::Pending
    });
    (tx, fut)
}

#[test]
fn runs_under_futures_lite_block_on() {
    let ex = LocalExecutor::new();
    let task = ex.spawn(async { 1 + 1 });
    assert_eq!(future::block_on(ex.run(task)).unwrap(), 2);
}

#[test]
fn a_wake_from_another_thread_reaches_a_parked_task() {
    let ex = LocalExecutor::new();
    let (tx, rx) = oneshot::<&'static str>();
    let task = ex.spawn(rx);
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        tx.send("across threads").unwrap();
    });
    assert_eq!(future::block_on(ex.run(task)).unwrap(), "across threads");
    sender.join().unwrap();
}

#[test]
fn try_tick_runs_one_task_at_a_time() {
    let ex = LocalExecutor::new();
    assert!(!ex.try_tick());
    let a = ex.spawn(async { 'a' });
    let b = ex.spawn(async { 'b' });
    assert!(ex.try_tick());
    assert!(a.is_finished() && !b.is_finished());
    assert!(ex.try_tick());
    assert!(b.is_finished());
    assert!(!ex.try_tick());
}

#[test]
#[allow(clippy::async_yields_async)] // The outer task hands its child's handle back on purpose.
fn two_executors_on_one_thread_keep_their_tasks_apart() {
    let first = LocalExecutor::new();
    let second = LocalExecutor::new();
    let on_first = first.spawn(async { eddy_task::spawn(async { "child of first" }) });
    // Driving `second` must not run tasks of `first`.
    assert!(!second.try_tick());
    let child = future::block_on(first.run(on_first)).unwrap();
    assert_eq!(future::block_on(first.run(child)).unwrap(), "child of first");
}

#[test]
fn the_executor_can_be_driven_after_being_moved_between_block_ons() {
    let ex = LocalExecutor::new();
    let t = ex.spawn(async { 3 });
    let ex = std::convert::identity(ex);
    assert_eq!(future::block_on(ex.run(t)).unwrap(), 3);
}

#[test]
fn a_spawn_beside_a_waiting_run_wakes_it() {
    // The executor's `run` is waiting (nothing to do) under a foreign `block_on` when a sibling
    // future on the same thread spawns onto it: the spawn must wake whoever drives the executor,
    // or the task would sit in the queue with nobody to run it.
    let (result_tx, result_rx) = mpsc::channel();
    thread::spawn(move || {
        let ex = LocalExecutor::new();
        let sibling = async {
            future::yield_now().await; // let `run` see an empty queue and wait first
            ex.spawn(async { "ran" }).await.unwrap()
        };
        let _ = result_tx.send(future::block_on(future::or(ex.run(future::pending()), sibling)));
    });
    let result = result_rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(result, Ok("ran"), "the spawned task never ran");
}
