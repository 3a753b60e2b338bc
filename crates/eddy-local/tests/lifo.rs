//! The task that a running task spawns or wakes runs next (the LIFO slot), at most three in a
//! row while other tasks wait; everything else runs in FIFO order.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use eddy_local::LocalExecutor;
use eddy_task::ThreadPark;
use futures_lite::future;

type Log = Rc<RefCell<Vec<String>>>;

fn note(log: &Log, entry: impl Into<String>) {
    log.borrow_mut().push(entry.into());
}

/// Spawns link `n` of a chain of `len` tasks, each spawning the next.
fn chain(log: Log, n: usize, len: usize) {
    if n < len {
        eddy_task::spawn_local(async move {
            note(&log, format!("c{n}"));
            chain(log, n + 1, len);
        })
        .detach();
    }
}

#[test]
fn a_task_spawned_by_a_running_task_runs_next() {
    let ex = LocalExecutor::new();
    let log = Log::default();
    for name in ["a", "b", "c"] {
        let log = log.clone();
        ex.spawn(async move {
            note(&log, name);
            if name == "a" {
                let log = log.clone();
                eddy_task::spawn_local(async move { note(&log, "a's child") }).detach();
            }
        })
        .detach();
    }
    while ex.try_tick() {}
    assert_eq!(*log.borrow(), ["a", "a's child", "b", "c"]);
}

#[test]
fn a_task_woken_by_a_running_task_runs_next() {
    let ex = LocalExecutor::new();
    let log = Log::default();
    let parked: Rc<RefCell<Option<Waker>>> = Rc::default();
    let waiter = ex.spawn({
        let (log, parked) = (log.clone(), parked.clone());
        async move {
            let mut waited = false;
            poll_fn(|cx| {
                if waited {
                    return Poll::Ready(());
                }
                waited = true;
                *parked.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            })
            .await;
            note(&log, "woken");
        }
    });
    assert!(ex.try_tick(), "the waiter parks");
    for name in ["waker", "b", "c"] {
        let (log, parked) = (log.clone(), parked.clone());
        ex.spawn(async move {
            note(&log, name);
            if let Some(waker) = parked.take() {
                waker.wake();
            }
        })
        .detach();
    }
    while ex.try_tick() {}
    assert!(waiter.is_finished());
    assert_eq!(*log.borrow(), ["waker", "woken", "b", "c"]);
}

#[test]
fn a_chain_of_spawns_lets_a_waiting_task_in_after_three_links_in_a_row() {
    let ex = LocalExecutor::new();
    let log = Log::default();
    ex.spawn({
        let log = log.clone();
        async move {
            note(&log, "start");
            chain(log, 0, 8);
        }
    })
    .detach();
    ex.spawn({
        let log = log.clone();
        async move { note(&log, "waiting") }
    })
    .detach();
    while ex.try_tick() {}
    // The chain's first three links come from the slot in a row; the fourth goes behind the
    // task that was waiting, and with nothing else queued the chain then runs on.
    assert_eq!(*log.borrow(), ["start", "c0", "c1", "c2", "waiting", "c3", "c4", "c5", "c6", "c7"]);
}

/// Spawns five tasks that log their number, and waits for them.
async fn spawn_five(log: Log) {
    let tasks: Vec<_> = (0..5)
        .map(|i| {
            let log = log.clone();
            eddy_task::spawn_local(async move { note(&log, i.to_string()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
}

#[test]
fn spawns_from_the_main_future_keep_their_order() {
    let ex = LocalExecutor::new();
    let log = Log::default();
    ex.block_on(&mut ThreadPark::new(), spawn_five(log.clone()));
    assert_eq!(*log.borrow(), ["0", "1", "2", "3", "4"]);
    // The same under another `block_on`, through `run`.
    log.borrow_mut().clear();
    future::block_on(ex.run(spawn_five(log.clone())));
    assert_eq!(*log.borrow(), ["0", "1", "2", "3", "4"]);
}

#[test]
fn a_main_future_that_panicked_leaves_the_lifo_slot_working() {
    let ex = LocalExecutor::new();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ex.block_on(&mut ThreadPark::new(), async { panic!("the main future fails") })
    }));
    assert!(panicked.is_err());
    // The executor serves on, and a running task's child still runs next.
    let log = Log::default();
    for name in ["a", "b"] {
        let log = log.clone();
        ex.spawn(async move {
            note(&log, name);
            if name == "a" {
                let log = log.clone();
                eddy_task::spawn_local(async move { note(&log, "a's child") }).detach();
            }
        })
        .detach();
    }
    while ex.try_tick() {}
    assert_eq!(*log.borrow(), ["a", "a's child", "b"]);
}
