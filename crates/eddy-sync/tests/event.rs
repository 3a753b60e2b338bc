//! `Event`: set wakes every waiter, clear re-arms it.

mod common;

use std::sync::Arc;

use common::{local, poll, within};
use eddy_sync::Event;

#[test]
fn set_wakes_every_waiter_and_later_waits_return_at_once() {
    let event = Event::new();
    let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(event.wait())).collect();
    for waiter in &mut waiters {
        assert!(poll(waiter).is_pending());
    }
    assert!(!event.is_set());
    event.set();
    event.set(); // setting twice is harmless
    assert!(event.is_set());
    for waiter in &mut waiters {
        assert!(poll(waiter).is_ready());
    }
    assert!(poll(&mut Box::pin(event.wait())).is_ready());
}

#[test]
fn a_waiter_sees_a_set_even_if_cleared_before_it_runs() {
    let event = Event::new();
    let mut waiter = Box::pin(event.wait());
    assert!(poll(&mut waiter).is_pending());
    event.set();
    event.clear();
    assert!(poll(&mut waiter).is_ready());
}

#[test]
fn clear_makes_waits_block_again() {
    let event = Event::new();
    event.set();
    event.clear();
    assert!(!event.is_set());
    let mut waiter = Box::pin(event.wait());
    assert!(poll(&mut waiter).is_pending());
    assert!(poll(&mut waiter).is_pending());
    event.set();
    assert!(poll(&mut waiter).is_ready());
}

#[test]
fn wakes_tasks_on_an_executor_and_across_threads() {
    local(async {
        let event = std::rc::Rc::new(Event::new());
        let task = eddy_task::spawn_local({
            let event = event.clone();
            async move { event.wait().await }
        });
        eddy_task::yield_now().await;
        event.set();
        task.await.unwrap();
    });
    within(std::time::Duration::from_secs(30), || {
        let event = Arc::new(Event::new());
        let setter = std::thread::spawn({
            let event = event.clone();
            move || event.set()
        });
        futures_lite::future::block_on(event.wait());
        setter.join().unwrap();
    });
}
