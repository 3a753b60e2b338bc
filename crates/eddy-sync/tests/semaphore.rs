//! `Semaphore` and `BoundedSemaphore`: permits, FIFO order, and cancellation that leaks nothing.

mod common;

use std::sync::Arc;
use std::task::Poll;

use common::{poll, Pending};
use eddy_sync::{BoundedSemaphore, Semaphore, SemaphoreGuard};
use proptest::prelude::*;

#[test]
fn counts_permits() {
    let sem = Semaphore::new(2);
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert!(sem.locked());
    assert!(sem.try_acquire().is_none());
    drop(a);
    assert_eq!(sem.value(), 1);
    b.forget();
    assert_eq!(sem.value(), 1);
    sem.release(); // gives back the forgotten permit
    sem.release(); // a plain Semaphore may go above its start
    assert_eq!(sem.value(), 3);
}

#[test]
fn release_wakes_the_oldest_waiter_and_newcomers_queue_behind() {
    let sem = Semaphore::new(0);
    let mut first = Box::pin(sem.acquire());
    let mut second = Box::pin(sem.acquire());
    assert!(poll(&mut first).is_pending());
    assert!(poll(&mut second).is_pending());
    sem.release();
    assert!(sem.try_acquire().is_none(), "the released permit was handed to the first waiter");
    assert!(poll(&mut second).is_pending());
    assert!(poll(&mut first).is_ready());
}

#[test]
fn bounded_semaphore_refuses_to_go_above_its_start() {
    let sem = BoundedSemaphore::new(2);
    let err = sem.release().unwrap_err();
    assert_eq!(err.to_string(), "BoundedSemaphore released too many times (its bound is 2)");
    assert_eq!(sem.value(), 2);
    sem.try_acquire().unwrap().forget();
    assert_eq!(sem.value(), 1);
    assert!(sem.release().is_ok());
    assert!(sem.release().is_err());
    // Guards give back exactly what they took, so they never trip the bound.
    let a = sem.try_acquire().unwrap();
    let b = sem.try_acquire().unwrap();
    assert!(sem.locked());
    drop((a, b));
    assert_eq!(sem.value(), 2);
}

#[test]
fn bounded_semaphore_hands_a_release_to_a_waiter() {
    let sem = BoundedSemaphore::new(1);
    sem.try_acquire().unwrap().forget();
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll(&mut waiter).is_pending());
    assert!(sem.release().is_ok());
    let Poll::Ready(guard) = poll(&mut waiter) else { panic!("the waiter was handed the permit") };
    drop(guard);
    assert!(sem.release().is_err());
}

#[test]
fn arc_guards_are_static() {
    let sem = Arc::new(Semaphore::new(1));
    let guard = futures_lite::future::block_on(sem.acquire_arc());
    let moved = std::thread::spawn(move || drop(guard));
    moved.join().unwrap();
    assert_eq!(sem.value(), 1);
    futures_lite::future::block_on(sem.acquire_arc()).forget();
    assert_eq!(sem.value(), 0);
}

#[derive(Debug, Clone)]
enum Op {
    Acquire,
    DropWaiter(usize),
    DropHolder(usize),
    PollAll,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Acquire),
        2 => (0..16usize).prop_map(Op::DropWaiter),
        2 => (0..16usize).prop_map(Op::DropHolder),
        2 => Just(Op::PollAll),
    ]
}

proptest! {
    /// An `acquire()` dropped at any point leaks no permit: once everything is dropped the
    /// semaphore has all its permits back, and no more than `permits` are ever held at once.
    #[test]
    fn cancellation_at_any_point_leaks_no_permit(
        permits in 1..4usize,
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let sem = Semaphore::new(permits);
        let mut waiters: Vec<Pending<'_, SemaphoreGuard<'_>>> = Vec::new();
        let mut holders: Vec<SemaphoreGuard<'_>> = Vec::new();
        for op in ops {
            match op {
                Op::Acquire => {
                    let mut waiter: Pending<'_, _> = Box::pin(sem.acquire());
                    match poll(&mut waiter) {
                        Poll::Ready(guard) => holders.push(guard),
                        Poll::Pending => waiters.push(waiter),
                    }
                }
                Op::DropWaiter(i) if !waiters.is_empty() => {
                    let i = i % waiters.len();
                    drop(waiters.remove(i));
                }
                Op::DropHolder(i) if !holders.is_empty() => {
                    let i = i % holders.len();
                    drop(holders.remove(i));
                }
                Op::PollAll => {
                    let mut i = 0;
                    while i < waiters.len() {
                        match poll(&mut waiters[i]) {
                            Poll::Ready(guard) => {
                                prop_assert_eq!(i, 0, "a younger waiter went first");
                                drop(waiters.remove(i));
                                holders.push(guard);
                            }
                            Poll::Pending => i += 1,
                        }
                    }
                    // Every permit not held went to a waiter, or nobody waits.
                    prop_assert!(holders.len() == permits || waiters.is_empty());
                }
                _ => {}
            }
            prop_assert!(holders.len() <= permits);
            prop_assert_eq!(sem.value() + holders.len() <= permits, true);
        }
        drop(waiters);
        drop(holders);
        prop_assert_eq!(sem.value(), permits);
    }
}
