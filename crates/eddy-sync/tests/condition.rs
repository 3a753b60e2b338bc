//! `Condition`: wait releases and re-takes the lock; notify(n) and notify_all; no lost notify.

mod common;

use std::task::Poll;

use common::{local, poll, Pending};
use eddy_sync::{Condition, LockGuard};

#[test]
fn wait_releases_the_lock_and_returns_holding_it() {
    let cond = Condition::new(0);
    let mut waiter: Pending<'_, LockGuard<'_, i32>> = Box::pin(async {
        let guard = cond.lock().await;
        cond.wait(guard).await
    });
    assert!(poll(&mut waiter).is_pending());
    assert!(!cond.as_lock().locked(), "waiting gives the lock up");
    let mut guard = cond.as_lock().try_lock().unwrap();
    *guard = 5;
    cond.notify(1);
    assert!(poll(&mut waiter).is_pending(), "it cannot return while the notifier holds the lock");
    drop(guard);
    let Poll::Ready(guard) = poll(&mut waiter) else { panic!("notified and unlocked") };
    assert_eq!(*guard, 5);
    assert!(cond.as_lock().locked());
}

fn waiters(cond: &Condition<()>, n: usize) -> Vec<Pending<'_, ()>> {
    (0..n)
        .map(|_| -> Pending<'_, ()> {
            Box::pin(async {
                let guard = cond.lock().await;
                drop(cond.wait(guard).await);
            })
        })
        .collect()
}

fn poll_all(waiters: &mut Vec<Pending<'_, ()>>) -> usize {
    let before = waiters.len();
    waiters.retain_mut(|w| poll(w).is_pending());
    before - waiters.len()
}

#[test]
fn notify_wakes_that_many_and_notify_all_the_rest() {
    let cond = Condition::new(());
    let mut waiting = waiters(&cond, 5);
    assert_eq!(poll_all(&mut waiting), 0);
    assert_eq!(cond.notify(1), 1);
    assert_eq!(cond.notify(1), 1, "a second notify(1) wakes a second task");
    assert_eq!(poll_all(&mut waiting), 2);
    assert_eq!(cond.notify_all(), 3);
    assert_eq!(poll_all(&mut waiting), 3);
    assert_eq!(cond.notify(1), 0, "nobody waits: nothing happens");
}

#[test]
fn a_notified_waiter_dropped_before_it_returns_passes_the_notification_on() {
    let cond = Condition::new(());
    let mut waiting = waiters(&cond, 2);
    assert_eq!(poll_all(&mut waiting), 0);
    let holder = cond.as_lock().try_lock().unwrap();
    cond.notify(1);
    // The first waiter is notified but blocked on the lock; drop it there.
    assert!(poll(&mut waiting[0]).is_pending());
    drop(waiting.remove(0));
    drop(holder);
    assert_eq!(poll_all(&mut waiting), 1, "the notification reached the other waiter");
}

#[test]
fn wait_for_checks_the_predicate_under_the_lock() {
    local(async {
        let cond = std::rc::Rc::new(Condition::new(Vec::new()));
        let consumer = eddy_task::spawn_local({
            let cond = cond.clone();
            async move {
                let items = cond.wait_for(cond.lock().await, |items: &mut Vec<i32>| items.len() >= 3).await;
                items.clone()
            }
        });
        for i in 0..3 {
            eddy_task::yield_now().await;
            cond.lock().await.push(i);
            cond.notify_all();
        }
        assert_eq!(consumer.await.unwrap(), [0, 1, 2]);
    });
}

#[test]
#[should_panic(expected = "the guard holds another lock than this condition's")]
fn waiting_with_another_locks_guard_panics() {
    let a = Condition::new(());
    let b = Condition::new(());
    let _guard = futures_lite::future::block_on(async {
        let guard = b.lock().await;
        a.wait(guard).await
    });
}
