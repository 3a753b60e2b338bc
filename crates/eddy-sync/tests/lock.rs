//! `Lock`: FIFO fairness, no barging, cancellation while queued, and the value it guards.

mod common;

use std::task::Poll;

use common::{local, poll, Pending};
use eddy_sync::Lock;
use proptest::prelude::*;

#[test]
fn waiters_get_the_lock_in_arrival_order() {
    let lock = Lock::new(Vec::new());
    let holder = lock.try_lock().unwrap();
    let mut waiters: Vec<Pending<'_, _>> = (0..5)
        .map(|i| -> Pending<'_, _> {
            let lock = &lock;
            Box::pin(async move {
                let mut order = lock.lock().await;
                order.push(i);
            })
        })
        .collect();
    // Queue them in order 0..5, then poll them newest first: order must still be 0..5.
    for waiter in &mut waiters {
        assert!(poll(waiter).is_pending());
    }
    drop(holder);
    let mut done = vec![false; waiters.len()];
    for _ in 0..5 {
        for (i, waiter) in waiters.iter_mut().enumerate().rev() {
            if !done[i] {
                done[i] = poll(waiter).is_ready();
            }
        }
    }
    assert!(done.iter().all(|&d| d));
    assert_eq!(*lock.try_lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn a_newcomer_does_not_barge_past_waiters() {
    let lock = Lock::new(());
    let holder = lock.try_lock().unwrap();
    let mut waiter = Box::pin(lock.lock());
    assert!(poll(&mut waiter).is_pending());
    drop(holder);
    // The lock was handed to the waiter, who has not run yet: a newcomer must not get it.
    assert!(lock.locked());
    assert!(lock.try_lock().is_none());
    let mut newcomer = Box::pin(lock.lock());
    assert!(poll(&mut newcomer).is_pending());
    let Poll::Ready(guard) = poll(&mut waiter) else { panic!("the oldest waiter was handed the lock") };
    drop(guard);
    assert!(poll(&mut newcomer).is_ready());
}

#[test]
fn a_waiter_dropped_while_queued_does_not_block_the_next() {
    let lock = Lock::new(());
    let holder = lock.try_lock().unwrap();
    let mut first = Box::pin(lock.lock());
    let mut second = Box::pin(lock.lock());
    assert!(poll(&mut first).is_pending());
    assert!(poll(&mut second).is_pending());
    drop(first);
    drop(holder);
    assert!(poll(&mut second).is_ready());
}

#[test]
fn a_waiter_dropped_after_being_handed_the_lock_passes_it_on() {
    let lock = Lock::new(());
    let holder = lock.try_lock().unwrap();
    let mut first = Box::pin(lock.lock());
    let mut second = Box::pin(lock.lock());
    assert!(poll(&mut first).is_pending());
    assert!(poll(&mut second).is_pending());
    drop(holder); // hands the lock to `first`
    drop(first); // which never takes it
    assert!(poll(&mut second).is_ready());
}

#[test]
fn the_last_waiter_dropped_after_hand_off_unlocks() {
    let lock = Lock::new(());
    let holder = lock.try_lock().unwrap();
    let mut waiter = Box::pin(lock.lock());
    assert!(poll(&mut waiter).is_pending());
    drop(holder);
    drop(waiter);
    assert!(!lock.locked());
    assert!(lock.try_lock().is_some());
}

#[test]
fn guards_the_value_across_awaits() {
    local(async {
        let lock = std::rc::Rc::new(Lock::new(0_u32));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let lock = lock.clone();
                eddy_task::spawn_local(async move {
                    let mut guard = lock.acquire().await;
                    let seen = *guard;
                    eddy_task::yield_now().await; // others queue up meanwhile
                    *guard = seen + 1;
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*lock.lock().await, 50);
    });
    let mut lock = Lock::new(String::from("a"));
    lock.get_mut().push('b');
    assert_eq!(lock.into_inner(), "ab");
}

#[derive(Debug, Clone)]
enum Op {
    /// Start a waiter and poll it once.
    Arrive,
    /// Drop the pending waiter at this position (modulo how many there are).
    Leave(usize),
    /// Drop the guard, if a waiter holds the lock.
    Unlock,
    /// Poll every pending waiter, newest first.
    PollAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Arrive),
        2 => (0..16usize).prop_map(Op::Leave),
        2 => Just(Op::Unlock),
        2 => Just(Op::PollAll),
    ]
}

proptest! {
    /// Whatever waiters are dropped, and whenever: the lock goes to the oldest waiter still
    /// there, never to two at once, and ends up free.
    #[test]
    fn cancellation_at_any_point_keeps_fifo_and_frees_the_lock(ops in prop::collection::vec(op(), 1..60)) {
        let lock = Lock::new(());
        let mut next_id = 0;
        let mut pending: Vec<(usize, Pending<'_, eddy_sync::LockGuard<'_, ()>>)> = Vec::new();
        let mut holder: Option<(usize, eddy_sync::LockGuard<'_, ()>)> = None;
        let mut order = Vec::new();
        for op in ops {
            match op {
                Op::Arrive => {
                    let mut waiter: Pending<'_, _> = Box::pin(lock.lock());
                    let id = next_id;
                    next_id += 1;
                    match poll(&mut waiter) {
                        Poll::Ready(guard) => {
                            prop_assert!(holder.is_none() && pending.is_empty(), "waiter {id} barged in");
                            order.push(id);
                            holder = Some((id, guard));
                        }
                        Poll::Pending => pending.push((id, waiter)),
                    }
                }
                Op::Leave(i) => {
                    if !pending.is_empty() {
                        let i = i % pending.len();
                        drop(pending.remove(i));
                    }
                }
                Op::Unlock => holder = None,
                Op::PollAll => {
                    for i in (0..pending.len()).rev() {
                        if let Poll::Ready(guard) = poll(&mut pending[i].1) {
                            let (id, _) = pending.remove(i);
                            prop_assert!(holder.is_none(), "waiter {id} got a held lock");
                            prop_assert_eq!(i, 0, "waiter {} went before older ones", id);
                            order.push(id);
                            holder = Some((id, guard));
                        }
                    }
                    if holder.is_none() {
                        prop_assert!(pending.is_empty(), "the lock is free but waiters are stuck");
                    }
                }
            }
            // Queued waiters mean the lock is held or handed to the oldest of them.
            prop_assert_eq!(lock.locked(), holder.is_some() || !pending.is_empty());
        }
        prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "not FIFO: {:?}", order);
        drop(holder);
        drop(pending);
        prop_assert!(!lock.locked());
        prop_assert!(lock.try_lock().is_some());
    }
}
